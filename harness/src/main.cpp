// ilk: the Interlock Kit command line.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/run.h"
#include "engine/server.h"
#include "engine/zygote.h"
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

// Print or write a finished report; a file that cannot be written does not
// lose it (it goes to standard output, and the exit code says so).
int emit(const char* who, const std::string& text, const std::string& output, int rc) {
    if (output.empty()) {
        std::cout << text;
        return rc;
    }
    if (std::string error; !write_file(output, text, error)) {
        std::cerr << who << ": " << error << "; the report follows on standard output instead\n";
        std::cout << text;
        return kExitFailed;
    }
    return rc;
}

struct ProbeArgs {
    std::string target, format = "text", output, platform;
    std::vector<std::string> primitives;
    bool fail_on_deviation = false, verbose = false, no_color = false;
};

// --target, or $TMPDIR (else /tmp) when none is given.
fs::path target_or_tmpdir(const std::string& target) {
    if (!target.empty()) return target;
    const char* tmpdir = std::getenv("TMPDIR");
    return tmpdir && *tmpdir ? tmpdir : "/tmp";
}

int cmd_probe(const ProbeArgs& a, const std::vector<std::string>& plugin_dirs) {
    const fs::path target = target_or_tmpdir(a.target);
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
    int rc = emit("ilk probe", text, a.output, report.interrupted ? kExitInterrupted : kExitOk);
    if (a.fail_on_deviation && rc == kExitOk)
        for (const auto& c : report.comparisons)
            if (c.outcome == ilk::Outcome::deviation || c.outcome == ilk::Outcome::unexpectedly_conforms) rc = kExitFailed;
    return rc;
}

struct RunArgs {
    std::vector<std::string> strategies, scenarios;
    std::string target, format = "text", output, schedule = "exhaustive", counterexample_dir = "ilk-report/counterexamples";
    std::uint64_t seed = 1;
    int trials = 200, bound = 2, faults = 1, max_schedules = 50;
    bool no_color = false, quiet = false;
};

// Unknown names get a did-you-mean and exit 2 before anything runs.
bool check_names(const char* what, const std::vector<std::string>& asked, const std::vector<std::string>& known) {
    for (const std::string& a : asked) {
        if (std::find(known.begin(), known.end(), a) != known.end()) continue;
        const std::string guess = ilk::closest_match(a, known);
        std::cerr << fmt::format("ilk run: no {} named '{}'{}; known: {}\n", what, a,
                                 guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess), fmt::join(known, ", "));
        return false;
    }
    return true;
}

int cmd_run(const RunArgs& a, const std::vector<std::string>& plugin_dirs) {
    const fs::path target = target_or_tmpdir(a.target);
    if (std::string why = check_target(target); !why.empty()) {
        std::cerr << "ilk run: " << why << "\n";
        return kExitBadInput;
    }
    std::vector<ilk::StrategySpec> strategies;
    try {
        strategies = ilk::load_strategies(ilk::strategy_dirs());
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return kExitBadInput;
    }
    std::vector<std::string> strategy_names, scenario_names;
    for (const auto& s : strategies) strategy_names.push_back(s.name);
    for (const auto& s : ilk::scenarios()) scenario_names.emplace_back(s.name);
    if (!check_names("strategy", a.strategies, strategy_names) || !check_names("scenario", a.scenarios, scenario_names))
        return kExitBadInput;
    ilk::Registry registry = load_registry(plugin_dirs);
    ilk::install_interrupt_handlers();
    std::vector<std::string> cleaned = ilk::clean_stale_journals(registry);
    for (const std::string& c : cleaned) std::cerr << "cleaned up after an earlier run: " << c << "\n";
    ilk::Journal journal = ilk::Journal::begin(target);
    ilk::RunOptions o;
    o.strategies = a.strategies;
    o.scenarios = a.scenarios;
    o.target = target;
    o.schedule.mode = a.schedule == "random"   ? ilk::ScheduleOptions::Mode::random
                      : a.schedule == "stress" ? ilk::ScheduleOptions::Mode::stress
                                               : ilk::ScheduleOptions::Mode::exhaustive;
    o.schedule.seed = a.seed;
    o.schedule.trials = a.trials;
    o.schedule.preemption_bound = a.bound;
    o.schedule.max_faults = a.faults;
    o.schedule.max_schedules = a.max_schedules;
    o.counterexample_dir = a.counterexample_dir;
    o.progress = !a.quiet;
    const ilk::RunReport report = ilk::run_matrix(registry, journal, strategies, o);
    for (const std::string& line : journal.finish(registry))
        if (line.rfind("could not", 0) == 0) std::cerr << "ilk run: cleanup: " << line << "\n";
    const std::string text = a.format == "json" ? ilk::run_report_json(report).dump(2) + "\n"
                                                : ilk::run_report_text(report, !a.no_color && a.output.empty() && isatty(1));
    int rc = emit("ilk run", text, a.output, report.interrupted ? kExitInterrupted : kExitOk);
    for (const auto& c : report.cells)
        if (c.verdict == ilk::Verdict::ERROR && rc == kExitOk) rc = kExitFailed;
    return rc;
}

int cmd_replay(const std::string& file, int times, const std::vector<std::string>& plugin_dirs) {
    ilk::Counterexample cx;
    try {
        std::ifstream in(file);
        if (!in) throw std::runtime_error(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
        cx = ilk::Counterexample::from_json(nlohmann::json::parse(in));
    } catch (const std::exception& e) {
        std::cerr << "ilk replay: " << file << ": " << e.what() << "\n";
        return kExitBadInput;
    }
    ilk::Registry registry = load_registry(plugin_dirs);
    ilk::install_interrupt_handlers();
    ilk::clean_stale_journals(registry);
    ilk::Journal journal = ilk::Journal::begin(target_or_tmpdir(""));
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    ilk::Lab lab(registry, journal, journal.scratch());
    for (const auto& p : registry.primitives())
        if (p.desc->name == cx.strategy.lock || p.desc->name == cx.strategy.segment) ilk::check_primitive(lab, p);
    ilk::TrialEnv env;
    env.registry = &registry;
    env.journal = &journal;
    env.workdir = journal.scratch();
    ilk::Zygote zygote(fs::read_symlink("/proc/self/exe"), ilk::plugin_libraries(registry), journal);
    env.zygote = &zygote;
    int same = 0;
    for (int i = 0; i < times && !ilk::g_interrupted; ++i) {
        std::optional<ilk::Violation> v;
        const ilk::Verdict got = ilk::replay(env, cx, &v);
        same += got == cx.verdict;
        std::cout << fmt::format("replay {}: {}{}\n", i + 1, ilk::to_string(got), v ? ": " + v->explanation : "");
    }
    journal.finish(registry);
    std::cout << fmt::format("{} of {} replays reached {} ({} under {}{}, schedule [{}])\n", same, times, ilk::to_string(cx.verdict),
                             cx.strategy.name, cx.scenario, cx.variant.empty() ? "" : "/" + cx.variant, fmt::join(cx.schedule, " "));
    if (ilk::g_interrupted) return kExitInterrupted;
    return same == times ? kExitOk : kExitFailed;
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
    rmdir(ilk::Journal::state_dir().c_str());  // the state directory itself, if no run is using it
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

    RunArgs ra;
    CLI::App* run = app.add_subcommand("run", "Put strategies on trial: strategy x scenario verdicts with counterexamples");
    run->add_option("--strategy", ra.strategies, "Run only this strategy; repeatable (see strategies/*.toml)");
    run->add_option("--scenario", ra.scenarios, "Run only this scenario; repeatable");
    run->add_option("--target", ra.target, "Directory for the data directories (a scratch subdirectory is made and removed)");
    run->add_option("--schedule", ra.schedule, "How contenders' steps interleave")->check(CLI::IsMember({"exhaustive", "random", "stress"}));
    run->add_option("--seed", ra.seed, "Random schedule: seed");
    run->add_option("--trials", ra.trials, "Random and stress schedules: trials per scenario variant");
    run->add_option("--bound", ra.bound, "Exhaustive schedule: preemption bound")->check(CLI::Range(0, 10));
    run->add_option("--faults", ra.faults, "Crashes (SIGKILL at a step) per schedule")->check(CLI::Range(0, 4));
    run->add_option("--max-schedules", ra.max_schedules, "Exhaustive schedule: cap per scenario variant")->check(CLI::PositiveNumber);
    run->add_option("--counterexample-dir", ra.counterexample_dir, "Where counterexample files go");
    run->add_option("--format", ra.format, "Report format")->check(CLI::IsMember({"text", "json"}));
    run->add_option("--output", ra.output, "Write the report to FILE");
    run->add_flag("--no-color", ra.no_color, "No colours on a terminal");
    run->add_flag("-q,--quiet", ra.quiet, "No progress lines");

    std::string replay_file;
    int replay_times = 1;
    CLI::App* replay = app.add_subcommand("replay", "Run a counterexample file again and check it reaches the same verdict");
    replay->add_option("file", replay_file, "Counterexample file (from ilk run)")->required();
    replay->add_option("--times", replay_times, "Replay this many times")->check(CLI::Range(1, 1000));

    int contender_fd = -1;
    bool zygote_role = false;
    CLI::App* contender = app.add_subcommand("contender", "");  // internal: the contender role (no help entry)
    contender->add_option("--fd", contender_fd)->required();
    contender->add_flag("--zygote", zygote_role);
    pid_t contender_parent = 0;
    contender->add_option("--parent", contender_parent);

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
        if (run->parsed()) return cmd_run(ra, plugin_dirs);
        if (replay->parsed()) return cmd_replay(replay_file, replay_times, plugin_dirs);
        if (contender->parsed()) return zygote_role ? ilk::zygote_main(contender_fd, contender_parent) : ilk::contender_main(contender_fd);
    } catch (const std::exception& e) {
        std::cerr << "ilk: " << e.what() << "\n";
        return kExitFailed;
    }
    return kExitBadInput;
}
