// ilk: the Interlock Kit command line.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/run.h"
#include "engine/server.h"
#include "engine/zygote.h"
#include "host/agent_main.h"
#include "host/local_host.h"
#include "journal.h"
#include "hostinfo.h"
#include "probe.h"
#include "profile.h"
#include "registry.h"
#include "report.h"
#include "target.h"
#include "advice.h"
#include "merge.h"
#include "writers.h"

namespace fs = std::filesystem;

namespace {

// Exit codes, shared by every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;       // deviations under --fail-on-deviation, or the kit failed
constexpr int kExitBadInput = 2;     // usage, profile, target or plugin-dir errors
constexpr int kExitSkipped = 77;     // ilk run --check: nothing failed, but a cell could not run (CTest's skip code)
constexpr int kExitNoneSafe = 3;     // ilk advise: no strategy is SAFE in that directory
constexpr int kExitInterrupted = 130;

ilk::Registry load_registry(const std::vector<std::string>& plugin_dirs) {
    ilk::Registry registry;
    std::vector<fs::path> dirs(plugin_dirs.begin(), plugin_dirs.end());
    if (dirs.empty()) dirs = ilk::Registry::default_dirs();
    registry.load_dirs(dirs);
    return registry;
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
    std::vector<std::string> targets;
    std::string format = "text", output, platform;
    std::vector<std::string> primitives;
    bool fail_on_deviation = false, verbose = false, no_color = false;
};

// $TMPDIR, else /tmp: where journals' scratch directories (and kit-made targets) go.
fs::path tmpdir() {
    const char* tmpdir = std::getenv("TMPDIR");
    return tmpdir && *tmpdir ? tmpdir : "/tmp";
}

// Target names checked before anything is made: a kit-made name must exist
// (did-you-mean), a directory must be usable. Returns false after saying why.
bool check_target_specs(const char* who, const std::vector<std::string>& specs) {
    for (const std::string& spec : specs) {
        if (ilk::names_a_directory(spec)) {
            if (std::string why = ilk::check_target_dir(spec); !why.empty()) {
                std::cerr << who << ": " << why << "\n";
                return false;
            }
        } else if (!ilk::find_target_kind(spec)) {
            std::cerr << fmt::format("{}: {} (or name a directory, e.g. ./{})\n", who, ilk::unknown_target_message(spec), spec);
            return false;
        }
    }
    return true;
}

// The profile to compare with: named, or the running OS's. Throws ProfileError.
ilk::PlatformProfile pick_profile(const std::string& name) {
    const auto dirs = ilk::profile_dirs();
    return name.empty() ? ilk::profile_for_os(ilk::host_info_os(), dirs) : ilk::find_profile(name, dirs);
}

int cmd_probe(const ProbeArgs& a, const std::vector<std::string>& plugin_dirs) {
    const std::vector<std::string> specs = a.targets.empty() ? std::vector<std::string>{tmpdir().string()} : a.targets;
    if (!check_target_specs("ilk probe", specs)) return kExitBadInput;
    // The profile first: a broken one must fail before anything is measured.
    ilk::PlatformProfile profile;
    try {
        profile = pick_profile(a.platform);
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
    ilk::Journal journal = ilk::Journal::begin(tmpdir());
    std::vector<ilk::ProbeReport> reports;
    for (const std::string& spec : specs) {
        if (ilk::g_interrupted) break;
        const ilk::PreparedTarget t = ilk::prepare_target(spec, journal);
        ilk::ProbeReport report;
        if (!t.unsupported.empty()) {
            report.host = ilk::host_info();
            report.target = t.info;
            report.target["name"] = spec;
            report.target["unsupported"] = t.unsupported;
            std::cerr << "ilk probe: target " << spec << " not set up: " << t.unsupported << "\n";
        } else {
            report = ilk::run_probe(registry, journal, {t.dir, a.primitives, t.segments_only, t.lower_dir});
            report.target = t.info;
            report.target["name"] = spec;
        }
        report.cleaned = cleaned;
        if (!profile.name.empty()) {
            report.profile = profile.name;
            report.profile_file = profile.file;
            report.comparisons = ilk::compare(profile, report.facts);
        }
        reports.push_back(std::move(report));
    }
    for (const std::string& line : journal.finish(registry))
        if (line.rfind("could not", 0) == 0) std::cerr << "ilk probe: cleanup: " << line << "\n";
    std::string text;
    bool interrupted = ilk::g_interrupted;
    if (a.format == "json") {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& r : reports) all.push_back(ilk::probe_report_json(r));
        text = (all.size() == 1 ? all[0] : all).dump(2) + "\n";
    } else {
        for (const auto& r : reports) text += ilk::probe_report_text(r, {!a.no_color && a.output.empty() && isatty(1), a.verbose});
    }
    for (const auto& r : reports) interrupted |= r.interrupted;
    int rc = emit("ilk probe", text, a.output, interrupted ? kExitInterrupted : kExitOk);
    if (a.fail_on_deviation && rc == kExitOk)
        for (const auto& r : reports)
            for (const auto& c : r.comparisons)
                if (c.outcome == ilk::Outcome::deviation || c.outcome == ilk::Outcome::unexpectedly_conforms) rc = kExitFailed;
    return rc;
}

struct RunArgs {
    std::vector<std::string> strategies, scenarios, targets;
    std::string format = "text", output, schedule = "exhaustive", counterexample_dir, report_dir = "ilk-report", platform;
    std::uint64_t seed = 1;
    int trials = 200, bound = 2, faults = 1, max_schedules = 50, jobs = 0;
    bool no_color = false, quiet = false, no_probe = false;
    bool advise = false;  // ilk advise: the advice instead of the matrix
    bool check = false;   // exit code by verdict (for CTest)
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

// The report directory, made before the run (counterexamples are written as
// they are found). If it cannot be made, a fresh one in $TMPDIR is used and
// the message says where, so no result is ever lost.
fs::path make_report_dir(const std::string& wanted) {
    std::error_code ec;
    fs::create_directories(wanted, ec);
    if (!ec && access(wanted.c_str(), W_OK | X_OK) == 0) return wanted;
    std::string tmpl = (tmpdir() / "ilk-report-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error(fmt::format("cannot create report directory {} nor one in {}", wanted, tmpdir().string()));
    std::cerr << fmt::format("ilk: cannot write the report directory {}: {}; the report goes to {} instead\n", wanted,
                             ec ? ec.message() : std::strerror(errno), tmpl);
    return tmpl;
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

int cmd_run(const RunArgs& a, const std::vector<std::string>& plugin_dirs) {
    std::vector<ilk::StrategySpec> strategies;
    ilk::PlatformProfile profile;
    std::vector<ilk::NotRunPlatform> not_run;
    try {
        strategies = ilk::load_strategies(ilk::strategy_dirs());
        profile = pick_profile(a.platform);
        not_run = ilk::platforms_not_run(ilk::profile_dirs(), ilk::host_info_os());
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return kExitBadInput;
    }
    // The main job covers the profile's targets (every kit-made one if it names
    // none) and, without root, $TMPDIR as well.
    std::vector<std::string> specs = a.targets;
    if (specs.empty()) {
        for (const std::string& t : profile.targets) {
            if (ilk::find_target_kind(t)) continue;
            std::cerr << fmt::format("{}:{}:{}: platform.targets: {}\n", profile.targets_where.file, profile.targets_where.line,
                                     profile.targets_where.column, ilk::unknown_target_message(t));
            return kExitBadInput;
        }
        specs = profile.targets.empty() ? ilk::target_kind_names() : profile.targets;
        if (geteuid() != 0) specs.insert(specs.begin(), tmpdir().string());
    }
    if (!check_target_specs("ilk run", specs)) return kExitBadInput;
    std::vector<std::string> strategy_names, scenario_names;
    for (const auto& s : strategies) strategy_names.push_back(s.name);
    for (const auto& s : ilk::scenarios()) scenario_names.emplace_back(s.name);
    if (!check_names("strategy", a.strategies, strategy_names) || !check_names("scenario", a.scenarios, scenario_names))
        return kExitBadInput;
    const fs::path report_dir = make_report_dir(a.report_dir);
    ilk::Registry registry = load_registry(plugin_dirs);
    ilk::install_interrupt_handlers();
    std::vector<std::string> cleaned = ilk::clean_stale_journals(registry);
    for (const std::string& c : cleaned) std::cerr << "cleaned up after an earlier run: " << c << "\n";
    ilk::Journal journal = ilk::Journal::begin(tmpdir());
    ilk::RunOptions o;
    o.strategies = a.strategies;
    o.scenarios = a.scenarios;
    o.schedule.mode = a.schedule == "random"   ? ilk::ScheduleOptions::Mode::random
                      : a.schedule == "stress" ? ilk::ScheduleOptions::Mode::stress
                                               : ilk::ScheduleOptions::Mode::exhaustive;
    o.schedule.seed = a.seed;
    o.schedule.trials = a.trials;
    o.schedule.preemption_bound = a.bound;
    o.schedule.max_faults = a.faults;
    o.schedule.max_schedules = a.max_schedules;
    o.counterexample_dir = a.counterexample_dir.empty() ? report_dir / "counterexamples" : fs::path(a.counterexample_dir);
    o.counterexamples_per_target = a.counterexample_dir.empty() || specs.size() > 1;
    o.link_base = report_dir;
    o.profile = profile;
    o.probe = !a.no_probe;
    o.jobs = a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    if (o.schedule.mode == ilk::ScheduleOptions::Mode::stress && a.jobs == 0) o.jobs = 1;  // stress wants every CPU for one target
    o.progress = a.quiet ? ilk::RunOptions::Progress::none : isatty(2) ? ilk::RunOptions::Progress::bar : ilk::RunOptions::Progress::lines;

    std::vector<ilk::PreparedTarget> targets;
    for (const std::string& spec : specs) {
        if (ilk::g_interrupted) break;
        targets.push_back(ilk::prepare_target(spec, journal));
        if (!a.quiet && !targets.back().unsupported.empty())
            std::cerr << fmt::format("target {} not set up: {}\n", spec, targets.back().unsupported);
    }
    ilk::MatrixReport report;
    try {
        report = ilk::run_matrix(registry, journal, strategies, targets, o);
    } catch (...) {
        journal.finish(registry);
        throw;
    }
    for (const std::string& line : journal.finish(registry))
        if (line.rfind("could not", 0) == 0) std::cerr << "ilk run: cleanup: " << line << "\n";
    report.not_run = not_run;

    int rc = report.interrupted ? kExitInterrupted : kExitOk;
    std::string rendered;
    if (!write_report_dir(report_dir, report, a.format, rendered)) rc = kExitFailed;
    const ilk::MatrixWriter* w = ilk::find_writer(a.format);
    ilk::WriteOptions wo{!a.no_color && a.output.empty() && isatty(1), 100, report_dir.string()};
    if (a.advise) {
        if (report.targets.empty()) return rc == kExitOk ? kExitFailed : rc;
        const ilk::Advice advice = ilk::advise(report.targets.front(), strategy_names);
        std::cout << ilk::advice_text(report.targets.front(), advice, wo.color);
        std::cout << fmt::format("\nthe cells behind this advice: {}\n", (report_dir / "report.html").string());
        if (rc == kExitOk && advice.recommended.empty()) rc = kExitNoneSafe;
        return rc;
    }
    const int out_rc = emit("ilk run", rendered.empty() ? w->write(report, wo) : rendered, a.output, rc);
    if (out_rc != rc) std::cerr << fmt::format("ilk run: the results are kept in {}\n", (report_dir / "report.json").string());
    rc = out_rc;
    if (a.format == "text" && !a.quiet && a.output.empty())
        std::cout << fmt::format("report: {} (report.json, report.md, junit.xml, report.html, counterexamples/)\n", report_dir.string());
    bool failed = false, unsupported = false;
    for (const auto& t : report.targets) {
        unsupported |= !t.unsupported.empty();
        for (const auto& c : t.cells) {
            failed |= c.verdict == ilk::Verdict::UNSAFE || c.verdict == ilk::Verdict::STUCK || c.verdict == ilk::Verdict::ERROR;
            unsupported |= c.verdict == ilk::Verdict::UNSUPPORTED;
            if (c.verdict == ilk::Verdict::ERROR && rc == kExitOk) rc = kExitFailed;
        }
    }
    if (a.check && rc == kExitOk) rc = failed ? kExitFailed : unsupported ? kExitSkipped : kExitOk;
    return rc;
}

struct MergeArgs {
    std::vector<std::string> inputs;
    std::string format = "text", output, html, markdown, junit, json;
    bool no_color = false;
};

// Reports of several hosts, kernels or filesystems into one matrix.
int cmd_merge(const MergeArgs& a) {
    // Parsing dominates: one reader thread per CPU, each taking every n-th file.
    std::vector<std::pair<std::string, ilk::MatrixReport>> inputs(a.inputs.size());
    std::vector<std::string> errors(a.inputs.size());
    const size_t n = std::max<size_t>(1, std::min<size_t>(std::thread::hardware_concurrency(), a.inputs.size()));
    std::vector<std::thread> readers;
    for (size_t k = 0; k < n; ++k)
        readers.emplace_back([&, k] {
            for (size_t i = k; i < a.inputs.size(); i += n) {
                try {
                    inputs[i] = {a.inputs[i], ilk::read_matrix_file(a.inputs[i])};
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            }
        });
    for (std::thread& t : readers) t.join();
    for (const std::string& e : errors)
        if (!e.empty()) {
            std::cerr << "ilk merge: " << e << "\n";
            return kExitBadInput;
        }
    ilk::MatrixReport merged = ilk::merge_reports(std::move(inputs));
    merged.host = ilk::host_info();
    int rc = kExitOk;
    for (const auto& [format, file] : {std::pair<const char*, const std::string&>{"html", a.html}, {"markdown", a.markdown},
                                       {"junit", a.junit}, {"json", a.json}}) {
        if (file.empty()) continue;
        std::string error;
        if (!write_file(file, ilk::find_writer(format)->write(merged, {}), error)) {
            std::cerr << "ilk merge: " << error << "\n";
            rc = kExitFailed;
        }
    }
    const ilk::WriteOptions wo{!a.no_color && a.output.empty() && isatty(1), 100, ""};
    rc = emit("ilk merge", ilk::find_writer(a.format)->write(merged, wo), a.output, rc);
    // Freeing millions of small JSON nodes one by one takes as long as reading
    // them; the process ends here, so let the kernel drop them at once.
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(rc);
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
    ilk::Journal journal = ilk::Journal::begin(tmpdir());
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    ilk::Lab lab(registry, journal, journal.scratch());
    for (const auto& p : registry.primitives())
        if (p.desc->name == cx.strategy.lock || p.desc->name == cx.strategy.segment) ilk::check_primitive(lab, p);
    ilk::TrialEnv env;
    env.registry = &registry;
    env.journal = &journal;
    env.workdir = journal.scratch();
    ilk::LocalHost local(registry, &journal, fs::read_symlink("/proc/self/exe"));
    env.host = &local;
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

// Strategies from the strategy files: name and summary (or names only, for scripts).
int cmd_list_strategies(bool names_only) {
    try {
        for (const auto& s : ilk::load_strategies(ilk::strategy_dirs()))
            std::cout << (names_only ? s.name + "\n" : fmt::format("{:<24} {}\n", s.name, s.summary));
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return kExitBadInput;
    }
    return kExitOk;
}

// Kit-made targets, and whether they can be set up here; --default: the
// running OS profile's targets (what `ilk run` with no --target covers).
int cmd_list_targets(bool names_only, bool only_default) {
    std::vector<std::string> names;
    if (only_default) {
        try {
            names = pick_profile("").targets;
        } catch (const ilk::ProfileError& e) {
            std::cerr << e.what() << "\n";
            return kExitBadInput;
        }
    }
    if (names.empty()) names = ilk::target_kind_names();
    for (const std::string& n : names) {
        const ilk::TargetKind* k = ilk::find_target_kind(n);
        if (names_only || !k) {
            std::cout << n << "\n";
            continue;
        }
        std::string here = geteuid() == 0 ? "" : "  [needs root]";
        for (const ilk::TargetTool& t : k->tools)
            if (ilk::find_tool(t.binary).empty()) here += fmt::format("  [{} missing: apt-get install {}]", t.binary, t.package);
        std::cout << fmt::format("{:<13} {}{}\n", n, k->summary, here);
    }
    return kExitOk;
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

// Undo the journals of dead runs and say honestly what happened: what was
// removed, what is left and why, which journals are kept for a later clean.
int cmd_clean(const std::vector<std::string>& plugin_dirs) {
    const ilk::Registry registry = load_registry(plugin_dirs);
    const std::string dir = ilk::Journal::state_dir().string();
    ilk::CleanTally tally;
    std::vector<std::string> done;
    try {
        done = ilk::clean_stale_journals(registry, &tally);
    } catch (const ilk::UnsafeStateDir& e) {
        std::cerr << "ilk clean: " << e.what() << "\n";
        return kExitFailed;
    }
    for (const std::string& line : done) std::cout << line << "\n";
    std::cout << fmt::format("{} leftover resource(s) of earlier runs removed (journals in {})\n", tally.undone, dir);
    if (tally.left > 0) std::cout << fmt::format("{} resource(s) not removed: see the lines above for why\n", tally.left);
    if (tally.never_made > 0)
        std::cout << fmt::format("{} journal entr{} of a form the kit never writes left alone\n", tally.never_made,
                                 tally.never_made == 1 ? "y" : "ies");
    if (!tally.kept.empty())
        std::cout << fmt::format("{} journal(s) kept for a later ilk clean: {}\n", tally.kept.size(), fmt::join(tally.kept, ", "));
    if (tally.live > 0) std::cout << fmt::format("{} journal(s) of runs still going left alone\n", tally.live);
    rmdir(dir.c_str());  // the state directory itself, if no run is using it
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
    probe->add_option("--target", pa.targets,
                      "Directory to probe in (a scratch subdirectory is made and removed), or a kit-made target (see ilk run); "
                      "repeatable. Default: $TMPDIR or /tmp");
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
    bool names_only = false, only_default = false;
    CLI::App* list_strategies = list->add_subcommand("strategies", "Strategies (strategies/*.toml and ILK_STRATEGY_PATH)");
    list_strategies->add_flag("--names", names_only, "Names only, one per line");
    CLI::App* list_targets = list->add_subcommand("targets", "Kit-made targets and whether they can be set up here");
    list_targets->add_flag("--names", names_only, "Names only, one per line");
    list_targets->add_flag("--default", only_default, "Only those ilk run covers with no --target (the platform profile's)");
    CLI::App* clean = app.add_subcommand("clean", "Remove what crashed earlier runs left behind (from their journals)");

    RunArgs ra;
    CLI::App* run = app.add_subcommand("run", "Put strategies on trial: the strategy x target matrix, with counterexamples");
    run->add_option("--strategy", ra.strategies, "Run only this strategy; repeatable (see strategies/*.toml)");
    run->add_option("--scenario", ra.scenarios, "Run only this scenario; repeatable");
    const std::string target_help = fmt::format(
        "A directory (a scratch subdirectory is made and removed) or a kit-made target: {}; repeatable. "
        "Default: the platform profile's targets", fmt::join(ilk::target_kind_names(), ", "));
    run->add_option("--target", ra.targets, target_help);
    run->add_option("--schedule", ra.schedule, "How contenders' steps interleave")->check(CLI::IsMember({"exhaustive", "random", "stress"}));
    run->add_option("--seed", ra.seed, "Random schedule: seed");
    run->add_option("--trials", ra.trials, "Random and stress schedules: trials per scenario variant");
    run->add_option("--bound", ra.bound, "Exhaustive schedule: preemption bound")->check(CLI::Range(0, 10));
    run->add_option("--faults", ra.faults, "Crashes (SIGKILL at a step) per schedule")->check(CLI::Range(0, 4));
    run->add_option("--max-schedules", ra.max_schedules, "Exhaustive schedule: cap per scenario variant")->check(CLI::PositiveNumber);
    run->add_option("--jobs,-j", ra.jobs, "Targets run at the same time (default: the number of CPUs)")->check(CLI::Range(1, 64));
    run->add_option("--report-dir", ra.report_dir, "Where report.json, report.md, junit.xml, report.html and counterexamples/ go");
    run->add_option("--counterexample-dir", ra.counterexample_dir, "Where counterexample files go (default: REPORT-DIR/counterexamples)");
    run->add_option("--platform", ra.platform, "Compare probes with platforms/NAME.toml instead of the running OS's profile");
    run->add_option("--format", ra.format, "Format on standard output (or --output)")
        ->check(CLI::IsMember({"text", "json", "markdown", "junit", "html"}));
    run->add_option("--output", ra.output, "Write that report to FILE instead of standard output");
    run->add_flag("--no-probe", ra.no_probe, "Do not probe each target's primitives first");
    run->add_flag("--check", ra.check,
                  "Exit 1 if a cell is UNSAFE, STUCK or ERROR; else 77 if one is UNSUPPORTED (CTest's skip); else 0");
    run->add_flag("--no-color", ra.no_color, "No colours on a terminal");
    run->add_flag("-q,--quiet", ra.quiet, "No progress");

    MergeArgs ma;
    CLI::App* merge = app.add_subcommand("merge", "Join matrix reports (ilk run's report.json) of several hosts into one matrix");
    merge->add_option("reports", ma.inputs, "Report files (report.json of ilk run, or of an earlier merge)")->required();
    merge->add_option("--format", ma.format, "Format on standard output (or --output)")
        ->check(CLI::IsMember({"text", "json", "markdown", "junit", "html"}));
    merge->add_option("--output", ma.output, "Write that report to FILE instead of standard output");
    merge->add_option("--html", ma.html, "Also write the HTML page to FILE");
    merge->add_option("--markdown", ma.markdown, "Also write the Markdown report to FILE");
    merge->add_option("--junit", ma.junit, "Also write JUnit XML to FILE");
    merge->add_option("--json", ma.json, "Also write the merged JSON report to FILE (it can be merged again)");
    merge->add_flag("--no-color", ma.no_color, "No colours on a terminal");

    RunArgs aa;  // ilk advise: ilk run on one directory, then a recommendation
    std::string advise_dir;
    CLI::App* advise = app.add_subcommand("advise", "Recommend the strategy to use for a real server's data directory");
    advise->add_option("dir", advise_dir, "The directory where the server would keep its data directory (its parent)")->required();
    advise->add_option("--strategy", aa.strategies, "Consider only this strategy; repeatable");
    advise->add_option("--scenario", aa.scenarios,
                       "Judge only under this scenario (the situations your deployment can meet); repeatable. Default: all");
    advise->add_option("--report-dir", aa.report_dir, "Where the report of the run behind the advice goes");
    advise->add_flag("--no-color", aa.no_color, "No colours on a terminal");
    advise->add_flag("-q,--quiet", aa.quiet, "No progress");

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

    int agent_fd = 0;
    CLI::App* agent = app.add_subcommand("agent", "Be one host of a run: the harness drives it over one byte stream "
                                                  "(standard input, or --fd), e.g. from another namespace or a QEMU guest");
    agent->add_option("--fd", agent_fd, "The stream's descriptor, read and written (default: 0)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitBadInput;
    }
    try {
        if (probe->parsed()) return cmd_probe(pa, plugin_dirs);
        if (list_plugins->parsed()) return cmd_list_plugins(plugin_dirs);
        if (list_strategies->parsed()) return cmd_list_strategies(names_only);
        if (list_targets->parsed()) return cmd_list_targets(names_only, only_default);
        if (clean->parsed()) return cmd_clean(plugin_dirs);
        if (run->parsed()) return cmd_run(ra, plugin_dirs);
        if (merge->parsed()) return cmd_merge(ma);
        if (advise->parsed()) {
            aa.targets = {advise_dir};
            aa.advise = true;
            return cmd_run(aa, plugin_dirs);
        }
        if (replay->parsed()) return cmd_replay(replay_file, replay_times, plugin_dirs);
        if (agent->parsed()) return ilk::agent_main(agent_fd, load_registry(plugin_dirs));
        if (contender->parsed()) return zygote_role ? ilk::zygote_main(contender_fd, contender_parent) : ilk::contender_main(contender_fd);
    } catch (const std::exception& e) {
        std::cerr << "ilk: " << e.what() << "\n";
        return kExitFailed;
    }
    return kExitBadInput;
}
