// ilk: the Interlock Kit command line.
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "journal.h"
#include "hostinfo.h"
#include "probe.h"
#include "profile.h"
#include "registry.h"
#include "report.h"

namespace fs = std::filesystem;

namespace {

// Exit codes, shared by every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;       // deviations under --fail-on-deviation, or the kit failed
constexpr int kExitBadInput = 2;     // usage, profile, target or plugin-dir errors
constexpr int kExitInterrupted = 130;

ilk::Registry load_registry(const std::vector<std::string>& plugin_dirs) {
    ilk::Registry registry;
    std::vector<fs::path> dirs(plugin_dirs.begin(), plugin_dirs.end());
    if (dirs.empty()) dirs = ilk::Registry::default_dirs();
    registry.load_dirs(dirs);
    return registry;
}

// A usable target directory, or a message that names it and the fix.
std::string check_target(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) return fmt::format("target {} does not exist: create it or name another --target", dir.string());
    if (!fs::is_directory(dir, ec)) return fmt::format("target {} is not a directory: name the directory that would hold the data directory", dir.string());
    struct statvfs sv {};
    if (statvfs(dir.c_str(), &sv) == 0 && (sv.f_flag & ST_RDONLY))
        return fmt::format("target {} is on a read-only mount: remount it read-write or name another --target", dir.string());
    if (access(dir.c_str(), W_OK | X_OK) != 0)
        return fmt::format("target {} is not writable by uid {}: fix its permissions or run as its owner", dir.string(), geteuid());
    return {};
}

bool write_file(const fs::path& file, const std::string& text, std::string& error) {
    const fs::path tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp);
        out << text;
        if (!out.flush()) {
            error = fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno));
            return false;
        }
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) {
        fs::remove(tmp, ec);
        error = fmt::format("cannot write {}: {}", file.string(), ec.message());
        return false;
    }
    return true;
}

struct ProbeArgs {
    std::string target, format = "text", output, platform;
    std::vector<std::string> primitives;
    bool fail_on_deviation = false, verbose = false, no_color = false;
};

int cmd_probe(const ProbeArgs& a, const std::vector<std::string>& plugin_dirs) {
    const char* tmpdir = std::getenv("TMPDIR");
    const fs::path target = a.target.empty() ? fs::path(tmpdir && *tmpdir ? tmpdir : "/tmp") : fs::path(a.target);
    if (std::string why = check_target(target); !why.empty()) {
        std::cerr << "ilk probe: " << why << "\n";
        return kExitBadInput;
    }
    // The profile first: a broken one must fail before anything is measured.
    ilk::PlatformProfile profile;
    try {
        const auto dirs = ilk::profile_dirs();
        profile = a.platform.empty() ? ilk::profile_for_os(ilk::host_info_os(), dirs) : ilk::find_profile(a.platform, dirs);
    } catch (const ilk::ProfileError& e) {
        std::cerr << e.what() << "\n";
        return kExitBadInput;
    }
    ilk::Registry registry = load_registry(plugin_dirs);
    for (const std::string& p : a.primitives) {
        if (registry.find(p)) continue;
        std::vector<std::string> names;
        for (const auto& prim : registry.primitives()) names.emplace_back(prim.desc->name);
        const std::string guess = ilk::closest_match(p, names);
        std::cerr << fmt::format("ilk probe: no primitive named '{}'{}; loaded: {}\n", p,
                                 guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess), fmt::join(names, ", "));
        return kExitBadInput;
    }
    ilk::install_interrupt_handlers();
    std::vector<std::string> cleaned = ilk::clean_stale_journals(registry);
    ilk::Journal journal = ilk::Journal::begin(target);
    ilk::ProbeReport report = ilk::run_probe(registry, journal, {target, a.primitives});
    report.cleaned = std::move(cleaned);
    for (const std::string& line : journal.finish(registry))
        if (line.rfind("could not", 0) == 0) std::cerr << "ilk probe: cleanup: " << line << "\n";
    if (!profile.name.empty()) {
        report.profile = profile.name;
        report.profile_file = profile.file;
        report.comparisons = ilk::compare(profile, report.facts);
    }
    const std::string text = a.format == "json"
                                 ? ilk::probe_report_json(report).dump(2) + "\n"
                                 : ilk::probe_report_text(report, {!a.no_color && a.output.empty() && isatty(1), a.verbose});
    int rc = report.interrupted ? kExitInterrupted : kExitOk;
    if (a.output.empty()) {
        std::cout << text;
    } else if (std::string error; !write_file(a.output, text, error)) {
        std::cerr << "ilk probe: " << error << "; the report follows on standard output instead\n";
        std::cout << text;
        rc = kExitFailed;
    }
    if (a.fail_on_deviation && rc == kExitOk)
        for (const auto& c : report.comparisons)
            if (c.outcome == ilk::Outcome::deviation || c.outcome == ilk::Outcome::unexpectedly_conforms) rc = kExitFailed;
    return rc;
}

int cmd_list_plugins(const std::vector<std::string>& plugin_dirs) {
    const ilk::Registry registry = load_registry(plugin_dirs);
    for (const auto& plugin : registry.plugins()) {
        std::cout << fmt::format("{} {} ({})\n", plugin.name, plugin.version, plugin.library.string());
        for (const auto& p : registry.primitives())
            if (p.plugin == plugin.name)
                std::cout << fmt::format("  {:<10} {:<8} {}\n", p.desc->name,
                                         p.desc->kind == ilk::PrimitiveKind::lock ? "lock" : "segment", p.desc->summary);
    }
    for (const auto& f : registry.failures()) std::cout << fmt::format("NOT LOADED {}: {}\n", f.library.string(), f.cause);
    return registry.failures().empty() ? kExitOk : kExitFailed;
}

int cmd_clean(const std::vector<std::string>& plugin_dirs) {
    const ilk::Registry registry = load_registry(plugin_dirs);
    const std::vector<std::string> done = ilk::clean_stale_journals(registry);
    for (const std::string& line : done) std::cout << line << "\n";
    std::cout << fmt::format("{} leftover resource(s) of earlier runs removed (journals in {})\n", done.size(),
                             ilk::Journal::state_dir().string());
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ilk — Interlock Kit: which data-directory startup interlock is safe on this platform"};
    app.require_subcommand(1);
    app.set_version_flag("--version", ILK_VERSION);
    std::vector<std::string> plugin_dirs;
    app.add_option("--plugin-dir", plugin_dirs, "Directory of plugins (ilk-*.so); repeatable. Default: ILK_PLUGIN_PATH, else beside the binary")
        ->check(CLI::ExistingDirectory);

    ProbeArgs pa;
    CLI::App* probe = app.add_subcommand("probe", "Measure how each primitive behaves on a target directory");
    probe->add_option("--target", pa.target, "Directory to probe in (a scratch subdirectory is made and removed). Default: $TMPDIR or /tmp");
    probe->add_option("--format", pa.format, "Report format")->check(CLI::IsMember({"text", "json"}));
    probe->add_option("--output", pa.output, "Write the report to FILE instead of standard output");
    probe->add_option("--platform", pa.platform, "Compare with platforms/NAME.toml instead of the running OS's profile");
    probe->add_option("--primitive", pa.primitives, "Probe only this primitive; repeatable");
    probe->add_flag("--fail-on-deviation", pa.fail_on_deviation, "Exit 1 when an observation deviates from the profile");
    probe->add_flag("-v,--verbose", pa.verbose, "Print each fact's evidence and every comparison");
    probe->add_flag("--no-color", pa.no_color, "No colours on a terminal");

    CLI::App* list = app.add_subcommand("list", "List what is available");
    list->require_subcommand(1);
    CLI::App* list_plugins = list->add_subcommand("plugins", "Plugins that loaded, their primitives, and those that did not load");
    CLI::App* clean = app.add_subcommand("clean", "Remove what crashed earlier runs left behind (from their journals)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitBadInput;
    }
    try {
        if (probe->parsed()) return cmd_probe(pa, plugin_dirs);
        if (list_plugins->parsed()) return cmd_list_plugins(plugin_dirs);
        if (clean->parsed()) return cmd_clean(plugin_dirs);
    } catch (const std::exception& e) {
        std::cerr << "ilk: " << e.what() << "\n";
        return kExitFailed;
    }
    return kExitBadInput;
}
