// ilk run: put strategies on trial, the strategy x target matrix with
// counterexamples; also the run behind ilk advise (run_and_save).
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/cli.h"
#include "engine/real_server.h"
#include "engine/run.h"
#include "engine/scenario.h"
#include "host/nfs.h"
#include "hostinfo.h"
#include "interrupt.h"
#include "journal.h"
#include "target.h"
#include "writers.h"

namespace fs = std::filesystem;

namespace ilk::cli {

namespace {

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

// Every file format into the report directory; the text of `format`, if it
// is one of them, is kept in `kept` so it is not rendered twice. Returns false
// if a file could not be written (said on stderr).
bool write_report_dir(const fs::path& dir, const ilk::MatrixReport& report, std::string_view format, std::string& kept) {
    bool ok = true;
    for (const ilk::MatrixWriter& w : ilk::matrix_writers()) {
        if (w.file.empty()) continue;
        std::string error, text = w.write(report, {});
        const bool written = write_file(dir / w.file, text, error);
        if (w.format == format) kept = std::move(text);
        if (!written) {
            std::cerr << "ilk: " << error << "\n";
            ok = false;
        }
    }
    return ok;
}

}  // namespace

CLI::App* add_run_command(CLI::App& app, RunArgs& a) {
    CLI::App* run = app.add_subcommand("run", "Put strategies on trial: the strategy x target matrix, with counterexamples");
    run->add_option("--strategy", a.strategies, "Run only this strategy; repeatable (see strategies/*.toml)");
    run->add_option("--scenario", a.scenarios, "Run only this scenario; repeatable");
    run->add_option("--skip-scenario", a.skip_scenarios, "Do not run this scenario; repeatable");
    const std::string target_help = fmt::format(
        "A directory (a scratch subdirectory is made and removed) or a kit-made target: {}, or a plugin's (ilk list targets); "
        "repeatable. Default: the platform profile's targets", fmt::join(ilk::target_kind_names(), ", "));
    run->add_option("--target", a.targets, target_help);
    run->add_option("--schedule", a.schedule,
                    "How contenders' steps interleave: exhaustive (within --bound, then PCT runs where --max-schedules is hit), "
                    "random, pct (priority-based random, with a probability bound for bugs of --depth), stress (free-running)")
        ->check(CLI::IsMember({"exhaustive", "random", "pct", "stress"}));
    run->add_option("--seed", a.seed, "Random and PCT schedules: seed");
    run->add_option("--trials", a.trials, "Random, PCT and stress schedules: trials per scenario variant");
    run->add_option("--server-trials", a.server_trials, "Real servers (servers/*.toml): free-running trials per scenario variant, each with its own seeded start order and timing")
        ->check(CLI::Range(1, 100000));
    run->add_option("--depth", a.depth, "PCT: the bug depth (ordering constraints) its probability bound is for")->check(CLI::Range(1, 10));
    run->add_option("--pct-runs", a.pct_runs,
                    "Exhaustive schedule: PCT runs per scenario variant whose --max-schedules cap is hit without UNSAFE (0: none)")
        ->check(CLI::Range(0, 100000));
    run->add_option("--budget", a.budget,
                    "Time per scenario of each cell, e.g. 2s or 500ms (default: none); when spent, the search stops and a SAFE is partial")
        ->check(duration_validator());
    run->add_option("--bound", a.bound, "Exhaustive schedule: preemption bound")->check(CLI::Range(0, 10));
    run->add_flag("--no-reduce", a.no_reduce,
                  "Exhaustive schedule: run every interleaving, not one order of steps that commute (slower; for checking the reduction)");
    run->add_option("--faults", a.faults, "Crashes (SIGKILL at a step) per schedule")->check(CLI::Range(0, 4));
    run->add_option("--max-schedules", a.max_schedules, "Exhaustive schedule: cap per scenario variant")->check(CLI::PositiveNumber);
    run->add_option("--jobs,-j", a.jobs, "Worker processes at the same time: targets, or shares of one target's strategies (default: the number of CPUs)")->check(CLI::Range(1, 64));
    run->add_option("--report-dir", a.report_dir,
                    fmt::format("Where {} and counterexamples/ go", fmt::join(ilk::matrix_file_names(), ", ")));
    run->add_option("--counterexample-dir", a.counterexample_dir, "Where counterexample files go (default: REPORT-DIR/counterexamples)");
    run->add_option("--platform", a.platform, "Compare probes with platforms/NAME.toml instead of the running OS's profile");
    run->add_option("--format", a.format, "Format on standard output (or --output)")
        ->check(CLI::IsMember(ilk::matrix_format_names()));
    run->add_option("--output", a.output, "Write that report to FILE instead of standard output");
    run->add_flag("--no-probe", a.no_probe, "Do not probe each target's primitives first");
    run->add_flag("--check", a.check,
                  "Exit 1 if a cell is UNSAFE, STUCK or ERROR; else 77 if one is UNSUPPORTED (CTest's skip); else 0");
    run->add_flag("--no-color", a.no_color, "No colours on a terminal");
    run->add_flag("-q,--quiet", a.quiet, "No progress");
    run->add_option("--nfs", a.nfs,
                    "Also run on this network mount (ilk list targets; 'all' for every one): a server guest and two client guests "
                    "of the --guest image mount it at the same path; server A runs on client A, every other contender on client B; "
                    "repeatable. Without --target, only the network mounts are run");
    run->add_option("--guest", a.guest, "The QEMU guest image (made by ci/guest/image.sh SERIES --ilk BUILD_DIR) for --nfs: root, and QEMU, needed");
    run->add_option("--guest-timeout", a.guest_timeout, "Seconds a guest may take to boot and answer (default 300)")->check(CLI::Range(10, 3600));
    return run;
}

// Every --nfs mount in one NFS lab, each a target of the matrix; a lab that
// does not come up makes each of them a target that says why.
void run_network_mounts(const ilk::Registry& registry, const ilk::Journal& journal, const std::vector<ilk::StrategySpec>& strategies,
                        const RunArgs& a, const ilk::RunOptions& o, ilk::MatrixReport& report) {
    const auto mounts = chosen_network_mounts(a.nfs, registry);
    const auto t0 = std::chrono::steady_clock::now();
    // The scenarios run on network mounts (by default those made for them), after those run elsewhere.
    if (report.targets.empty()) report.scenarios.clear();
    for (const ilk::Scenario& s : ilk::scenarios())
        if (ilk::scenario_wanted(a.scenarios, s, true, a.skip_scenarios) &&
            std::none_of(report.scenarios.begin(), report.scenarios.end(), [&](const ilk::ScenarioInfo& i) { return i.name == s.name; }))
            report.scenarios.push_back({s.name, s.summary});
    auto not_run = [&](const std::string& name, const std::string& why) {
        ilk::TargetResult t;
        t.name = name;
        t.kind = "network";
        t.unsupported = why;
        report.targets.push_back(std::move(t));
    };
    std::optional<ilk::NfsLab> lab;
    try {
        lab.emplace(fs::absolute(a.guest), mounts, journal, std::chrono::seconds(a.guest_timeout));
    } catch (const std::exception& e) {
        std::cerr << "ilk run: the NFS lab did not come up: " << e.what() << "\n";
        for (const ilk::NetworkMountDescriptor* m : mounts) not_run(m->name, std::string("the NFS lab did not come up: ") + e.what());
    }
    for (size_t i = 0; lab && i < mounts.size() && !ilk::g_interrupted; ++i) {
        const std::string name = mounts[i]->name;
        const auto on_start = [&](const std::string& strategy) {
            if (!a.quiet) std::cerr << fmt::format("{}: {}\n", name, strategy);
        };
        try {
            report.targets.push_back(ilk::run_network_mount(registry, strategies, *lab, name, o, on_start, nullptr));
            if (!a.quiet && !report.targets.back().unsupported.empty())
                std::cerr << fmt::format("network mount {} not run: {}\n", name, report.targets.back().unsupported);
        } catch (const std::exception& e) {
            // The lab failed under this mount (a guest gone): the mounts after it cannot run either.
            std::cerr << fmt::format("ilk run: network mount {}: the NFS lab failed: {}\n", name, e.what());
            for (size_t j = i; j < mounts.size(); ++j) not_run(mounts[j]->name, std::string("the NFS lab failed: ") + e.what());
            break;
        }
    }
    report.interrupted = report.interrupted || ilk::g_interrupted;
    report.elapsed_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::optional<SavedRun> run_and_save(const RunArgs& a, const std::vector<std::string>& plugin_dirs) {
    std::vector<ilk::StrategySpec> strategies;
    ilk::PlatformProfile profile;
    std::vector<ilk::NotRunPlatform> not_run;
    try {
        strategies = ilk::load_strategies_and_servers();
        profile = pick_profile(a.platform);
        not_run = ilk::platforms_not_run(ilk::profile_dirs(), ilk::host_info_os());
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return std::nullopt;
    }
    ilk::Registry registry = load_registry(plugin_dirs);
    // The main job covers the profile's targets (every kit-made one if it names
    // none: the kit's own, not plugins') and, without root, $TMPDIR as well.
    std::vector<std::string> specs = a.targets;
    if (!check_network_mount_args("ilk run", a.nfs, a.guest, registry)) return std::nullopt;
    if (specs.empty() && a.nfs.empty()) {
        for (const std::string& t : profile.targets) {
            if (ilk::find_target_kind(t, &registry)) continue;
            std::cerr << fmt::format("{}:{}:{}: platform.targets: {}\n", profile.targets_where.file, profile.targets_where.line,
                                     profile.targets_where.column, ilk::unknown_target_message(t, &registry));
            return std::nullopt;
        }
        specs = profile.targets.empty() ? ilk::target_kind_names() : profile.targets;
        if (geteuid() != 0) specs.insert(specs.begin(), tmpdir().string());
    }
    if (!check_target_specs("ilk run", specs, registry)) return std::nullopt;
    SavedRun saved;
    std::vector<std::string> scenario_names;
    for (const auto& s : strategies) saved.strategy_names.push_back(s.name);
    for (const auto& s : ilk::scenarios()) scenario_names.emplace_back(s.name);
    if (!check_names("strategy", a.strategies, saved.strategy_names) || !check_names("scenario", a.scenarios, scenario_names) ||
        !check_names("scenario", a.skip_scenarios, scenario_names))
        return std::nullopt;
    saved.report_dir = make_report_dir(a.report_dir);
    ilk::install_interrupt_handlers();
    std::vector<std::string> cleaned = ilk::clean_stale_journals(registry);
    for (const std::string& c : cleaned) std::cerr << "cleaned up after an earlier run: " << c << "\n";
    ilk::Journal journal = ilk::Journal::begin(tmpdir());
    ilk::RunOptions o;
    o.strategies = a.strategies;
    // A real server is shown next to the kit's model of it: the model runs too.
    for (const ilk::StrategySpec& s : strategies)
        if (s.server && !s.server->model.empty() && std::ranges::count(o.strategies, s.name) > 0 &&
            std::ranges::count(o.strategies, s.server->model) == 0)
            o.strategies.push_back(s.server->model);
    o.scenarios = a.scenarios;
    o.skip_scenarios = a.skip_scenarios;
    o.schedule.mode = a.schedule == "random"   ? ilk::ScheduleOptions::Mode::random
                      : a.schedule == "stress" ? ilk::ScheduleOptions::Mode::stress
                      : a.schedule == "pct"    ? ilk::ScheduleOptions::Mode::pct
                                               : ilk::ScheduleOptions::Mode::exhaustive;
    o.schedule.seed = a.seed;
    o.schedule.depth = a.depth;
    o.schedule.pct_runs = a.pct_runs;
    o.schedule.reduce = !a.no_reduce;
    o.schedule.budget_ms = a.budget.empty() ? 0 : *parse_duration_ms(a.budget);
    o.schedule.trials = a.trials;
    o.schedule.server_trials = a.server_trials;
    o.schedule.preemption_bound = a.bound;
    o.schedule.max_faults = a.faults;
    o.schedule.max_schedules = a.max_schedules;
    o.counterexample_dir = a.counterexample_dir.empty() ? saved.report_dir / "counterexamples" : fs::path(a.counterexample_dir);
    o.counterexamples_per_target = a.counterexample_dir.empty() || specs.size() > 1;
    o.link_base = saved.report_dir;
    o.profile = profile;
    o.probe = !a.no_probe;
    o.jobs = a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    if (o.schedule.mode == ilk::ScheduleOptions::Mode::stress && a.jobs == 0) o.jobs = 1;  // stress wants every CPU for one target
    o.progress = a.quiet ? ilk::RunOptions::Progress::none : isatty(2) ? ilk::RunOptions::Progress::bar : ilk::RunOptions::Progress::lines;

    std::vector<ilk::PreparedTarget> targets;
    for (const std::string& spec : specs) {
        if (ilk::g_interrupted) break;
        targets.push_back(ilk::prepare_target(spec, journal, &registry));
        if (!a.quiet && !targets.back().unsupported.empty())
            std::cerr << fmt::format("target {} not set up: {}\n", spec, targets.back().unsupported);
    }
    try {
        saved.report = ilk::run_matrix(registry, journal, strategies, targets, o);
        if (!a.nfs.empty() && !ilk::g_interrupted) run_network_mounts(registry, journal, strategies, a, o, saved.report);
    } catch (...) {
        journal.finish(registry);
        throw;
    }
    for (const std::string& line : journal.finish(registry))
        if (line.rfind("could not", 0) == 0) std::cerr << "ilk run: cleanup: " << line << "\n";
    saved.report.not_run = not_run;

    saved.rc = saved.report.interrupted ? kExitInterrupted : kExitOk;
    if (!write_report_dir(saved.report_dir, saved.report, a.format, saved.rendered)) saved.rc = kExitFailed;
    return saved;
}

int cmd_run(const RunArgs& a, const std::vector<std::string>& plugin_dirs) {
    std::optional<SavedRun> saved = run_and_save(a, plugin_dirs);
    if (!saved) return kExitBadInput;
    const ilk::MatrixReport& report = saved->report;
    const fs::path& report_dir = saved->report_dir;
    int rc = saved->rc;
    const ilk::MatrixWriter* w = ilk::find_writer(a.format);
    ilk::WriteOptions wo{!a.no_color && a.output.empty() && isatty(1), 100, report_dir.string()};
    const int out_rc = emit("ilk run", saved->rendered.empty() ? w->write(report, wo) : saved->rendered, a.output, rc);
    if (out_rc != rc) std::cerr << fmt::format("ilk run: the results are kept in {}\n", (report_dir / "report.json").string());
    rc = out_rc;
    if (a.format == "text" && !a.quiet && a.output.empty())
        std::cout << fmt::format("report: {} ({}, counterexamples/)\n", report_dir.string(), fmt::join(ilk::matrix_file_names(), ", "));
    bool failed = false, unsupported = false;
    for (const auto& t : report.targets) {
        unsupported |= !t.unsupported.empty();
        for (const auto& c : t.cells) {
            failed |= ilk::is_failure(c.verdict);
            unsupported |= c.verdict == ilk::Verdict::UNSUPPORTED;
            if (c.verdict == ilk::Verdict::ERROR && rc == kExitOk) rc = kExitFailed;
        }
    }
    if (a.check && rc == kExitOk) rc = failed ? kExitFailed : unsupported ? kExitSkipped : kExitOk;
    return rc;
}

}  // namespace ilk::cli
