// ilk --generate man|bash-completion: the manual page and the bash completion
// script, both written from the app's own definitions (subcommands, options,
// their types, choices and descriptions), so neither can drift from --help.
// The package build runs them (cmake/IlkManual.cmake); cli.manual checks them.
#include <algorithm>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/cli.h"

namespace ilk::cli {

namespace {

// Subcommands shown in --help (an empty description or group hides one).
std::vector<CLI::App*> visible_subcommands(CLI::App& app) {
    return app.get_subcommands([](CLI::App* s) { return !s->get_group().empty() && !s->get_description().empty(); });
}

std::vector<const CLI::Option*> visible_options(const CLI::App& app, bool with_help) {
    return app.get_options([&](const CLI::Option* o) {
        const auto& l = o->get_lnames();
        return !o->get_group().empty() && (with_help || std::find(l.begin(), l.end(), "help") == l.end());
    });
}

// The names of an option as typed: -j and --jobs (or a positional's name).
std::vector<std::string> spellings(const CLI::Option& o) {
    std::vector<std::string> out;
    for (const auto& s : o.get_snames()) out.push_back("-" + s);
    for (const auto& l : o.get_lnames()) out.push_back("--" + l);
    return out;
}

// The choices of an option checked by CLI::IsMember: its type name reads
// "TEXT:{a,b,c}".
std::vector<std::string> choices(const CLI::Option& o) {
    const std::string t = o.get_type_name();
    const auto open = t.find('{'), close = t.find('}', open == std::string::npos ? 0 : open);
    std::vector<std::string> out;
    if (open == std::string::npos || close == std::string::npos) return out;
    std::stringstream in(t.substr(open + 1, close - open - 1));
    for (std::string c; std::getline(in, c, ',');) out.push_back(c);
    return out;
}

bool takes_value(const CLI::Option& o) { return o.get_items_expected_max() > 0; }

// ---- roff ------------------------------------------------------------------

// Text for a roff line: backslashes escaped, a leading '.' or '\'' made
// literal, the few non-ASCII characters the descriptions use named.
std::string roff(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\\') out += "\\e";
        else if (s.compare(i, 3, "—") == 0) out += "\\(em", i += 2;
        else if (s.compare(i, 2, "×") == 0) out += "\\(mu", i += 1;
        else if (c == '-' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '-' || s[i - 1] == '(' || s[i - 1] == ',')) out += "\\-";
        else out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
    return out;
}

std::string roff_option_head(const CLI::Option& o) {
    std::string head;
    const auto names = o.nonpositional() ? spellings(o) : std::vector<std::string>{o.get_name(true)};
    for (const auto& n : names) {
        if (!head.empty()) head += ", ";
        head += "\\fB" + roff(n) + "\\fR";
    }
    if (takes_value(o)) head += " \\fI" + roff(o.get_type_name()) + "\\fR";
    if (o.get_items_expected_max() > 1) head += " ...";
    return head;
}

void man_options(const CLI::App& app, bool with_help, std::ostream& out) {
    for (const CLI::Option* o : visible_options(app, with_help)) {
        out << ".TP\n" << roff_option_head(*o) << "\n";
        out << (o->get_description().empty() ? std::string("(no description)") : roff(o->get_description())) << "\n";
    }
}

void man_subcommand(CLI::App& app, const std::string& path, std::ostream& out) {
    const auto subs = visible_subcommands(app);
    const bool has_options = !visible_options(app, false).empty();
    std::string positionals;
    for (const CLI::Option* o : visible_options(app, false))
        if (!o->nonpositional()) positionals += " " + o->get_name(true) + (o->get_items_expected_max() > 1 ? " ..." : "");
    out << ".SS \"" << roff(path) << (has_options ? " [OPTIONS]" : "") << (subs.empty() ? "" : " SUBCOMMAND") << roff(positionals)
        << "\"\n";
    out << roff(app.get_description()) << "\n";
    man_options(app, false, out);
    if (!app.get_footer().empty()) out << ".PP\n" << roff(app.get_footer()) << "\n";
    for (CLI::App* s : subs) man_subcommand(*s, path + " " + s->get_name(), out);
}

// ---- bash ------------------------------------------------------------------

std::string words(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, " ")); }

// Options whose value names what `ilk list X --names` prints.
const std::map<std::string, std::string> kListedValues = {
    {"--strategy", "strategies"}, {"--scenario", "scenarios"}, {"--skip-scenario", "scenarios"}, {"--target", "targets"}};

// One `case` arm per subcommand path ("", "run", "list strategies"): what
// follows an option that takes a value, else its options and subcommands.
void bash_arms(CLI::App& app, const std::string& path, std::ostream& out) {
    std::vector<std::string> offered;
    for (const CLI::Option* o : visible_options(app, true))
        for (const auto& n : spellings(*o)) offered.push_back(n);
    const auto subs = visible_subcommands(app);
    for (CLI::App* s : subs) offered.push_back(s->get_name());

    std::ostringstream value_arms;
    for (const CLI::Option* o : visible_options(app, false)) {
        if (!o->nonpositional() || !takes_value(*o)) continue;
        std::string arm;
        const auto listed = kListedValues.find(o->get_lnames().empty() ? "" : "--" + o->get_lnames().front());
        const std::string type = o->get_type_name();
        if (const auto c = choices(*o); !c.empty()) {
            arm = "COMPREPLY=($(compgen -W '" + words(c) + "' -- \"$cur\"))";
        } else if (listed != kListedValues.end()) {
            arm = "COMPREPLY=($(compgen -W \"$(\"$ilk\" list " + listed->second + " --names 2>/dev/null)\" -- \"$cur\"))";
            if (listed->first == "--target") arm += "; COMPREPLY+=($(compgen -d -- \"$cur\"))";
        } else if (type.find("DIR") != std::string::npos) {
            arm = "COMPREPLY=($(compgen -d -- \"$cur\"))";
        } else if (const std::string base = type.substr(0, type.find(':'));
                   base == "INT" || base == "UINT" || base == "FLOAT" || type.find("DURATION") != std::string::npos) {
            arm = ":";  // a number or a duration: nothing to offer
        } else {
            arm = "COMPREPLY=($(compgen -f -- \"$cur\"))";  // a file, a directory or a value: offer paths
        }
        value_arms << "            " << fmt::format("{}", fmt::join(spellings(*o), "|")) << ") " << arm << "; return ;;\n";
    }
    out << "    \"" << path << "\")\n";
    if (!value_arms.str().empty()) out << "        case $prev in\n" << value_arms.str() << "        esac\n";
    const bool positional_files = !std::as_const(app).get_options([](const CLI::Option* o) { return !o->nonpositional(); }).empty();
    out << "        COMPREPLY=($(compgen -W '" << words(offered) << "' -- \"$cur\"))";
    if (positional_files) out << "\n        [[ $cur == -* ]] || COMPREPLY+=($(compgen -f -- \"$cur\"))";
    out << " ;;\n";
    for (CLI::App* s : subs) bash_arms(*s, path.empty() ? s->get_name() : path + " " + s->get_name(), out);
}

// The subcommand names of each level, for walking the typed words.
void bash_levels(CLI::App& app, const std::string& path, std::ostream& out) {
    const auto subs = visible_subcommands(app);
    if (subs.empty()) return;
    std::vector<std::string> names;
    for (CLI::App* s : subs) names.push_back(s->get_name());
    out << "        \"" << path << "\") subs='" << words(names) << "' ;;\n";
    for (CLI::App* s : subs) bash_levels(*s, path.empty() ? s->get_name() : path + " " + s->get_name(), out);
}

}  // namespace

void write_man_page(CLI::App& app, const std::string& version, std::ostream& out) {
    std::string summary = app.get_description();
    if (const auto dash = summary.find(" — "); dash != std::string::npos) summary = summary.substr(dash + 5);
    out << ".\\\" The manual page of ilk, written by `ilk --generate man` from its command line's definitions.\n";
    out << ".TH ILK 1 \"\" \"ilk " << roff(version) << "\" \"User Commands\"\n";
    out << ".SH NAME\nilk \\- " << roff(summary) << "\n";
    out << ".SH SYNOPSIS\n.B ilk\n[\\fIOPTIONS\\fR] \\fISUBCOMMAND\\fR [\\fISUBCOMMAND OPTIONS\\fR]\n";
    out << ".SH DESCRIPTION\n"
           "Interlock Kit puts data\\-directory startup interlock strategies (pidfiles, file locks, shared\\-memory "
           "attach counts, real servers) on trial with real processes on real filesystems, and writes a "
           "compatibility matrix of strategy \\(mu target, with a replayable counterexample for every failure.\n";
    out << ".SH OPTIONS\n";
    man_options(app, true, out);
    out << ".SH COMMANDS\n";
    for (CLI::App* s : visible_subcommands(app)) man_subcommand(*s, "ilk " + s->get_name(), out);
    out << ".SH EXIT STATUS\n"
        << ".TP\n" << kExitOk << "\ndone.\n"
        << ".TP\n" << kExitFailed << "\nthe kit failed (an ERROR cell), a report could not be written, \\-\\-check found an UNSAFE, "
                                      "STUCK or ERROR cell, or a replay did not reach its recorded verdict.\n"
        << ".TP\n" << kExitBadInput << "\nbad input: usage, a profile, strategy or server file, a target, an unknown name.\n"
        << ".TP\n" << kExitNoneSafe << "\n\\fBadvise\\fR found no SAFE strategy.\n"
        << ".TP\n" << kExitSkipped << "\n\\fBrun \\-\\-check\\fR found nothing failing but a cell UNSUPPORTED (CTest's skip code).\n"
        << ".TP\n" << kExitInterrupted << "\ninterrupted; the partial report is still written.\n";
    out << ".SH ENVIRONMENT\n"
           ".TP\nILK_PLUGIN_PATH\nColon list of plugin directories (\\-\\-plugin\\-dir wins).\n"
           ".TP\nILK_PLATFORM_PATH, ILK_STRATEGY_PATH, ILK_SERVER_PATH\nColon lists of the directories of platform profiles, strategy files and server files, searched instead of the installed ones.\n"
           ".TP\nILK_STATE_DIR\nWhere run journals live (default /run/ilk as root); a directory of your own, mode 0700.\n"
           ".TP\nILK_HOOK_TIMEOUT_MS, ILK_TARGET_SETUP_TIMEOUT_MS\nHow long a plugin's hook, or its target set\\-up, may take.\n"
           ".TP\nILK_TOOL_PATH\nWhere the tools of kit\\-made targets are looked for instead of PATH.\n"
           ".TP\nTMPDIR\nWhere a run's scratch directory and the kit\\-made targets go.\n";
    // Relative to the installation's prefix (/usr for the Debian package).
    const std::string prefix = "\\fIPREFIX\\fR/";
    out << ".SH FILES\n"
        << ".TP\n" << prefix << roff(ILK_STRATEGY_SUBDIR) << ", " << prefix << roff(ILK_SERVER_SUBDIR) << ", " << prefix
        << roff(ILK_PLATFORM_SUBDIR) << "\nStrategy files, server files and platform profiles (PREFIX is /usr for the Debian package).\n"
        << ".TP\n" << prefix << roff(ILK_PLUGIN_SUBDIR) << "\nPlugins (ilk\\-*.so).\n"
        << ".TP\n" << prefix << "share/doc/ilk/porting.md\nThe porter's guide: qualifying a new OS or filesystem, step by step.\n";
}

void write_bash_completion(CLI::App& app, std::ostream& out) {
    out << "# bash completion for ilk, written by `ilk --generate bash-completion` from its\n"
           "# command line's definitions. Strategy, scenario and target names come from\n"
           "# `ilk list ... --names` when asked.\n"
           "_ilk() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
           "    local ilk=${COMP_WORDS[0]} path='' subs i w\n"
           "    COMPREPLY=()\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        w=${COMP_WORDS[i]}\n"
           "        subs=''\n"
           "        case $path in\n";
    bash_levels(app, "", out);
    out << "        esac\n"
           "        [[ \" $subs \" == *\" $w \"* ]] && path=${path:+$path }$w\n"
           "    done\n"
           "    case $path in\n";
    bash_arms(app, "", out);
    out << "    esac\n"
           "}\n"
           "complete -F _ilk ilk\n";
}

}  // namespace ilk::cli
