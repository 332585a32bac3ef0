#include "engine/run.h"

#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "engine/zygote.h"
#include "hostinfo.h"

namespace ilk {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Why a cell cannot run here, or empty.
std::string unsupported_reason(const StrategySpec& s, const Scenario& sc, const std::map<std::string, PrimitiveStatus>& prims) {
    if (sc.needs_root && geteuid() != 0)
        return fmt::format("scenario {} needs root (PID reuse, other uids or namespaces); run as root", sc.name);
    for (const std::string& p : {s.lock, s.segment}) {
        if (p.empty()) continue;
        auto it = prims.find(p);
        if (it == prims.end()) return fmt::format("primitive '{}' is not loaded (no plugin provides it)", p);
        if (!it->second.supported) return fmt::format("primitive '{}' is not supported here: {}", p, it->second.reason);
    }
    return {};
}

std::string schedule_text(const ScheduleOptions& o) {
    if (o.mode == ScheduleOptions::Mode::stress)
        return fmt::format("stress (free-running starters, {} trials per variant)", o.trials);
    if (o.mode == ScheduleOptions::Mode::random)
        return fmt::format("random (seed {}, {} trials per variant, up to {} fault)", o.seed, o.trials, o.max_faults);
    return fmt::format("exhaustive (preemption bound {}, up to {} fault, at most {} schedules per variant)", o.preemption_bound,
                       o.max_faults, o.max_schedules);
}

}  // namespace

fs::path write_counterexample(const Counterexample& cx, const fs::path& dir) {
    fs::create_directories(dir);
    const fs::path file = dir / fmt::format("{}--{}{}.json", cx.strategy.name, cx.scenario, cx.variant.empty() ? "" : "--" + cx.variant);
    std::ofstream(file) << cx.to_json().dump(2) << "\n";
    return file;
}

RunReport run_matrix(const Registry& registry, Journal& journal, const std::vector<StrategySpec>& strategies, const RunOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    // Gated schedules run one process at a time: on one CPU every hand-over is
    // a local wake-up instead of an inter-processor one (slow in VMs). Stress
    // wants every CPU.
    cpu_set_t saved;
    sched_getaffinity(0, sizeof saved, &saved);
    if (o.schedule.mode != ScheduleOptions::Mode::stress) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
        sched_setaffinity(0, sizeof one, &one);
    }
    RunReport report;
    report.host = host_info();
    report.target = target_info(o.target);
    report.schedule = schedule_text(o.schedule);
    Lab lab(registry, journal, o.target);
    std::map<std::string, PrimitiveStatus> prims;
    for (const Primitive& p : registry.primitives()) {
        PrimitiveStatus s = check_primitive(lab, p);
        prims[s.name] = s;
        report.primitives.push_back(std::move(s));
    }
    TrialEnv env;
    env.registry = &registry;
    env.journal = &journal;
    env.workdir = journal.scratch() / "trials";
    fs::create_directories(env.workdir);
    Zygote zygote(o.contender_binary.empty() ? fs::read_symlink("/proc/self/exe") : o.contender_binary,
                  plugin_libraries(registry), journal);
    env.zygote = &zygote;
    try {
        for (const StrategySpec& s : strategies) {
            if (!o.strategies.empty() && std::find(o.strategies.begin(), o.strategies.end(), s.name) == o.strategies.end()) continue;
            for (const Scenario& sc : scenarios()) {
                if (!o.scenarios.empty() && std::find(o.scenarios.begin(), o.scenarios.end(), sc.name) == o.scenarios.end()) continue;
                throw_if_interrupted();
                CellResult cell;
                cell.strategy = s.name;
                cell.scenario = sc.name;
                if (std::string why = unsupported_reason(s, sc, prims); !why.empty()) {
                    cell.verdict = Verdict::UNSUPPORTED;
                    cell.reason = why;
                } else {
                    cell = explore(env, s, sc, o.schedule);
                    if (cell.counterexample && !o.counterexample_dir.empty())
                        cell.counterexample_file = write_counterexample(*cell.counterexample, o.counterexample_dir).string();
                }
                if (o.progress)
                    std::cerr << fmt::format("  {:<24} {:<20} {:<11} {:>5} schedules {:>7.0f} ms\n", s.name, sc.name,
                                             to_string(cell.verdict), cell.schedules, cell.elapsed_ms);
                report.cells.push_back(std::move(cell));
            }
        }
    } catch (const Interrupted&) {
        report.interrupted = true;
    }
    report.interrupted = report.interrupted || g_interrupted.load();  // also when the last cell was the one cut short
    sched_setaffinity(0, sizeof saved, &saved);
    report.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

json run_report_json(const RunReport& r) {
    json cells = json::array();
    for (const CellResult& c : r.cells) {
        json j{{"strategy", c.strategy}, {"target", r.target.value("path", "")}, {"scenario", c.scenario},
               {"verdict", std::string(to_string(c.verdict))}, {"schedules", c.schedules}, {"faults", c.faults},
               {"complete", c.complete}, {"reason", c.reason}, {"elapsed_ms", c.elapsed_ms}};
        if (c.found_ms >= 0) j["found_ms"] = c.found_ms;
        j["counterexample"] = c.counterexample_file.empty() ? json(nullptr) : json(c.counterexample_file);
        if (c.counterexample) j["schedule"] = c.counterexample->schedule;
        cells.push_back(std::move(j));
    }
    return {{"schema_version", 1}, {"kind", "ilk-run"}, {"host", r.host}, {"target", r.target}, {"schedule", r.schedule},
            {"cells", cells}, {"elapsed_ms", r.elapsed_ms}, {"interrupted", r.interrupted}};
}

std::string run_report_text(const RunReport& r, bool color) {
    auto paint = [&](Verdict v, const std::string& s) {
        if (!color) return s;
        const char* code = v == Verdict::SAFE ? "32" : v == Verdict::UNSAFE ? "31;1" : v == Verdict::STUCK ? "33;1" : v == Verdict::ERROR ? "35;1" : "2";
        return fmt::format("\033[{}m{}\033[0m", code, s);
    };
    auto glyph = [](Verdict v) {
        switch (v) {
        case Verdict::SAFE: return "ok";
        case Verdict::UNSAFE: return "UN";
        case Verdict::STUCK: return "ST";
        case Verdict::ERROR: return "ER";
        case Verdict::UNSUPPORTED: return "--";
        }
        return "?";
    };
    std::vector<std::string> strategies, scenario_names;
    std::map<std::pair<std::string, std::string>, const CellResult*> at;
    for (const CellResult& c : r.cells) {
        if (std::find(strategies.begin(), strategies.end(), c.strategy) == strategies.end()) strategies.push_back(c.strategy);
        if (std::find(scenario_names.begin(), scenario_names.end(), c.scenario) == scenario_names.end()) scenario_names.push_back(c.scenario);
        at[{c.strategy, c.scenario}] = &c;
    }
    std::string out = fmt::format("ilk run — {} on {} ({}), schedule: {}\n\n", r.host.value("kernel", "?"), r.target.value("path", "?"),
                                  r.target.value("fstype", "?"), r.schedule);
    out += fmt::format("{:<24}", "strategy \\ scenario");
    for (size_t i = 0; i < scenario_names.size(); ++i) out += fmt::format("{:>4}", i + 1);
    out += "\n";
    for (const std::string& s : strategies) {
        out += fmt::format("{:<24}", s.substr(0, 23));
        for (const std::string& sc : scenario_names) {
            const CellResult* c = at[{s, sc}];
            out += "  " + (c ? paint(c->verdict, glyph(c->verdict)) : std::string("  "));
        }
        out += "\n";
    }
    out += "\nscenarios:";
    for (size_t i = 0; i < scenario_names.size(); ++i) out += fmt::format("{} {}={}", i % 5 == 0 ? "\n " : "", i + 1, scenario_names[i]);
    out += "\nverdicts: ok=SAFE UN=UNSAFE ST=STUCK (refused when it should start) ER=ERROR (the kit failed) --=UNSUPPORTED\n";
    int findings = 0;
    for (const CellResult& c : r.cells) {
        if (c.verdict == Verdict::SAFE || c.verdict == Verdict::UNSUPPORTED) continue;
        if (!findings++) out += "\nfindings:\n";
        out += fmt::format("  {} {} under {}{}: {}\n", paint(c.verdict, std::string(to_string(c.verdict))), c.strategy, c.scenario,
                           c.counterexample && !c.counterexample->variant.empty() ? "/" + c.counterexample->variant : "", c.reason);
        if (c.counterexample)
            out += fmt::format("      schedule [{}] (shrunk from {} decisions){}\n", fmt::join(c.counterexample->schedule, " "),
                               c.counterexample->shrunk_from,
                               c.counterexample_file.empty() ? "" : "; replay: ilk replay " + c.counterexample_file);
    }
    int safe = 0, schedules = 0, incomplete = 0;
    for (const CellResult& c : r.cells) {
        safe += c.verdict == Verdict::SAFE;
        schedules += c.schedules;
        incomplete += c.verdict == Verdict::SAFE && !c.complete;
    }
    if (incomplete)
        out += fmt::format("\n{} SAFE cells reached the schedule cap before the search space was exhausted "
                           "(SAFE within the schedules run; raise --max-schedules to search further).\n", incomplete);
    out += fmt::format("\n{} cells, {} SAFE, {} schedules in {:.1f} s{}\n", r.cells.size(), safe, schedules, r.elapsed_ms / 1000,
                       r.interrupted ? " (interrupted: partial report)" : "");
    return out;
}

}  // namespace ilk
