#include "engine/explorer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include <fmt/format.h>

#include "interrupt.h"

namespace ilk {

using json = nlohmann::json;

Verdict verdict_of(const Violation& v) {
    if (v.kind == "exclusion" || v.kind == "collateral") return Verdict::UNSAFE;
    if (v.kind == "liveness") return Verdict::STUCK;
    if (v.kind == "unsupported") return Verdict::UNSUPPORTED;
    return Verdict::ERROR;
}

json Counterexample::to_json() const {
    return {{"kind", "ilk-counterexample"},
            {"schema_version", 1},
            {"strategy", strategy},
            {"scenario", scenario},
            {"variant", variant},
            {"schedule", schedule},
            {"mode", mode},
            {"seed", seed},
            {"verdict", std::string(ilk::to_string(verdict))},
            {"violation", {{"kind", violation.kind}, {"explanation", violation.explanation}}},
            {"transcript", transcript},
            {"shrunk_from", shrunk_from}};
}

Counterexample Counterexample::from_json(const json& j) {
    if (j.value("kind", "") != "ilk-counterexample") throw std::runtime_error("not an ilk counterexample file (kind is not \"ilk-counterexample\")");
    Counterexample cx;
    cx.strategy = j.at("strategy").get<StrategySpec>();
    cx.scenario = j.at("scenario").get<std::string>();
    cx.variant = j.value("variant", "");
    cx.schedule = j.at("schedule").get<Schedule>();
    cx.mode = j.value("mode", "");
    cx.seed = j.value("seed", 0ull);
    // Only a finding has a counterexample: anything else is a broken file, not a verdict to replay towards.
    cx.verdict = verdict_from_string(j.at("verdict").get<std::string>());
    if (!has_counterexample(cx.verdict)) {
        std::vector<std::string_view> can;
        for (const VerdictRow& row : kVerdictTable)
            if (row.counterexample) can.push_back(row.name);
        throw std::runtime_error(
            fmt::format("verdict '{}' cannot have a counterexample (only {})", to_string(cx.verdict), fmt::join(can, " or ")));
    }
    cx.violation = {j["violation"].value("kind", ""), j["violation"].value("explanation", "")};
    cx.transcript = j.value("transcript", json::object());
    cx.shrunk_from = j.value("shrunk_from", 0);
    return cx;
}

namespace {

int count_faults(const Schedule& s) {
    return static_cast<int>(std::count_if(s.begin(), s.end(), [](const std::string& c) { return c[0] == '!'; }));
}

int starters_for(const Scenario& s, const std::string& variant) {
    return s.starters ? s.starters : std::max(1, std::atoi(variant.c_str()));
}

std::uint64_t next_random(std::uint64_t* state) {  // splitmix64: small, seedable, the same everywhere
    std::uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

namespace {

// A fresh trial around body: the oracle's verdict, or what stopped the trial
// (a scenario that cannot be staged here, a failure of the kit).
ScheduleOutcome in_trial(const TrialEnv& env, const StrategySpec& strategy, int trial_index,
                         const std::function<void(Trial&, ScheduleOutcome&)>& body) {
    ScheduleOutcome out;
    Trial t(env, strategy, trial_index);
    try {
        body(t, out);
    } catch (const Interrupted&) {
        throw;
    } catch (const UnsupportedHere& e) {
        out.violation = Violation{"unsupported", e.what()};
    } catch (const std::exception& e) {
        out.violation = Violation{"error", e.what()};
    }
    out.transcript = t.transcript();
    return out;
}

// Plant the scenario, then start its starters B, C, ... (gated, or free-running).
std::vector<Contender*> stage(Trial& t, const Scenario& scenario, const std::string& variant, bool free_running,
                              ScheduleOutcome& out) {
    std::vector<Contender*> starters;
    scenario.setup(t, variant);
    out.violation = t.check();
    const int n = starters_for(scenario, variant);
    for (int i = 0; i < n && !out.violation; ++i) {
        SpawnOptions o = scenario.starter(t, variant, i);
        o.free_running = free_running;
        starters.push_back(&t.spawn(std::string(1, static_cast<char>('B' + i)), o, !free_running));
    }
    return starters;
}

}  // namespace

ScheduleOutcome run_schedule(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario,
                             const std::string& variant, const Schedule& prefix, int max_faults, std::uint64_t* rng,
                             int trial_index) {
    return in_trial(env, strategy, trial_index, [&](Trial& t, ScheduleOutcome& out) {
        const std::vector<Contender*> starters = stage(t, scenario, variant, false, out);
        std::string last;
        int preemptions = 0;
        while (!out.violation) {
            throw_if_interrupted();
            std::vector<std::string> enabled;
            for (Contender* c : starters)
                if (c->enabled()) enabled.push_back(c->name);
            if (enabled.empty()) break;
            const bool last_enabled = std::find(enabled.begin(), enabled.end(), last) != enabled.end();
            ScheduleOutcome::Point p{{}, 0, preemptions, out.faults, last, enabled};
            p.options.push_back(last_enabled ? last : enabled.front());
            for (const auto& e : enabled)
                if (e != p.options.front()) p.options.push_back(e);
            if (out.faults < max_faults)
                for (const auto& e : enabled) p.options.push_back("!" + e);
            const size_t pos = out.points.size();
            if (pos < prefix.size()) {
                auto it = std::find(p.options.begin(), p.options.end(), prefix[pos]);
                if (it == p.options.end()) {
                    out.diverged = true;
                    break;
                }
                p.chosen = static_cast<size_t>(it - p.options.begin());
            } else if (rng) {
                const bool fault = out.faults < max_faults && next_random(rng) % 10 == 0;
                const std::string who = enabled[next_random(rng) % enabled.size()];
                p.chosen = static_cast<size_t>(std::find(p.options.begin(), p.options.end(), fault ? "!" + who : who) - p.options.begin());
            }
            const std::string choice = p.options[p.chosen];
            out.points.push_back(p);
            out.schedule.push_back(choice);
            if (choice[0] == '!') {
                t.crash(*t.find(choice.substr(1)), false);
                ++out.faults;
                last.clear();
            } else {
                if (last_enabled && choice != last) ++preemptions;
                t.advance(*t.find(choice));
                last = choice;
            }
            out.violation = t.check();
        }
        if (!out.violation && !out.diverged) out.violation = t.check_liveness(scenario.starter(t, variant, 0));
    });
}

ScheduleOutcome run_free(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario,
                         const std::string& variant, int trial_index) {
    return in_trial(env, strategy, trial_index, [&](Trial& t, ScheduleOutcome& out) {
        stage(t, scenario, variant, true, out);
        if (!out.violation) {
            t.run_free_to_end();
            out.violation = t.check();
        }
        if (!out.violation) out.violation = t.check_liveness(scenario.starter(t, variant, 0));
    });
}

namespace {

// The next prefix of a depth-first walk within the bounds, or nullopt when done.
// budget caps preemptions + faults together: passes with a growing budget find
// the simplest interleavings first (iterative deepening, as in CHESS).
// *limited is set when some option was left out only because of the budget.
std::optional<Schedule> next_prefix(const ScheduleOutcome& o, const ScheduleOptions& opt, int budget, bool* limited) {
    for (size_t i = o.points.size(); i-- > 0;) {
        const auto& p = o.points[i];
        const bool last_enabled = std::find(p.enabled.begin(), p.enabled.end(), p.last) != p.enabled.end();
        for (size_t j = p.chosen + 1; j < p.options.size(); ++j) {
            const std::string& c = p.options[j];
            const bool fault = c[0] == '!';
            const int faults = p.faults_before + (fault ? 1 : 0);
            const int preemptions = p.preemptions_before + (!fault && last_enabled && c != p.last ? 1 : 0);
            if (faults > opt.max_faults || preemptions > opt.preemption_bound) continue;
            if (faults + preemptions > budget) {
                *limited = true;
                continue;
            }
            Schedule prefix(o.schedule.begin(), o.schedule.begin() + static_cast<long>(i));
            prefix.push_back(c);
            return prefix;
        }
    }
    return std::nullopt;
}

}  // namespace

CellResult explore(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario, const ScheduleOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    ScheduleOptions opt = options;
    opt.max_faults = std::min(options.max_faults, scenario.faults);
    CellResult cell;
    cell.strategy = strategy.name;
    cell.scenario = scenario.name;
    bool unsupported = false;
    auto consider = [&](const ScheduleOutcome& o, const std::string& variant, std::uint64_t seed) {
        cell.schedules += 1;
        cell.faults += o.faults;
        if (!o.violation) return;
        if (o.violation->kind == "unsupported") {
            unsupported = true;
            cell.reason = o.violation->explanation;
            return;
        }
        const Verdict v = verdict_of(*o.violation);
        if (severity(v) <= severity(cell.verdict)) return;
        cell.verdict = v;
        cell.reason = o.violation->explanation;
        cell.found_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        Counterexample cx{strategy, scenario.name, variant, o.schedule,
                          opt.mode == ScheduleOptions::Mode::random ? "random"
                          : opt.mode == ScheduleOptions::Mode::stress ? "stress" : "exhaustive",
                          seed, v, *o.violation,
                          o.transcript, static_cast<int>(o.schedule.size())};
        cell.counterexample = std::move(cx);
    };
    int trial_index = 0;
    try {
    for (const std::string& variant : scenario.variants) {
        if (opt.mode == ScheduleOptions::Mode::stress) {
            for (int i = 0; i < opt.trials && cell.verdict != Verdict::UNSAFE && !unsupported; ++i)
                consider(run_free(env, strategy, scenario, variant, trial_index++), variant, 0);
            continue;
        }
        if (opt.mode == ScheduleOptions::Mode::random) {
            for (int i = 0; i < opt.trials; ++i) {
                std::uint64_t state = opt.seed * 1000003ULL + static_cast<std::uint64_t>(i);
                const std::uint64_t seed = state;
                consider(run_schedule(env, strategy, scenario, variant, {}, opt.max_faults, &state, trial_index++), variant, seed);
                if (cell.verdict == Verdict::UNSAFE || unsupported) break;
            }
            continue;
        }
        int n = 0;
        bool stop = false, limited = true;
        for (int budget = 0; budget <= opt.preemption_bound + opt.max_faults && !stop && limited; ++budget) {
            limited = false;
            Schedule prefix;
            for (;;) {
                if (n++ >= opt.max_schedules) {
                    cell.complete = false;
                    stop = true;
                    break;
                }
                const ScheduleOutcome o = run_schedule(env, strategy, scenario, variant, prefix, opt.max_faults, nullptr, trial_index++);
                consider(o, variant, 0);
                if (cell.verdict == Verdict::UNSAFE || unsupported || (o.violation && o.violation->kind == "error")) {
                    stop = true;
                    break;
                }
                auto next = next_prefix(o, opt, budget, &limited);
                if (!next) break;
                prefix = std::move(*next);
            }
        }
        if (cell.verdict == Verdict::UNSAFE || unsupported) break;
    }
    } catch (const Interrupted&) {
        // Keep what was explored; the caller sees the flag and stops the run.
        cell.complete = false;
        cell.reason = cell.reason.empty() ? "interrupted: partial exploration" : cell.reason;
        cell.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        return cell;
    }
    if (unsupported && !cell.counterexample) {
        cell.verdict = Verdict::UNSUPPORTED;
        cell.schedules = 0;
    }
    // Free-running findings have no step schedule to shrink or replay.
    if (cell.counterexample && opt.mode != ScheduleOptions::Mode::stress) cell.counterexample = shrink(env, *cell.counterexample, scenario);
    cell.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return cell;
}

Verdict replay(const TrialEnv& env, const Counterexample& cx, std::optional<Violation>* violation) {
    if (cx.mode == "stress")
        throw std::runtime_error("a stress finding has no step schedule: run ilk run --schedule stress again, or explore it with --schedule exhaustive");
    const Scenario* s = find_scenario(cx.scenario);
    if (!s) throw std::runtime_error(fmt::format("unknown scenario '{}' in the counterexample", cx.scenario));
    const ScheduleOutcome o = run_schedule(env, cx.strategy, *s, cx.variant, cx.schedule, count_faults(cx.schedule), nullptr, 0);
    if (violation) *violation = o.violation;
    return o.violation ? verdict_of(*o.violation) : Verdict::SAFE;
}

Counterexample shrink(const TrialEnv& env, const Counterexample& cx, const Scenario& scenario) {
    Counterexample best = cx;
    best.shrunk_from = static_cast<int>(cx.schedule.size());
    // Greedy: drop one decision at a time (faults first), keep the drop when the
    // same verdict still follows; the default policy fills in after the prefix.
    auto attempt = [&](const Schedule& candidate) -> bool {
        const ScheduleOutcome o = run_schedule(env, best.strategy, scenario, best.variant, candidate, count_faults(candidate), nullptr, 0);
        if (o.diverged || !o.violation || verdict_of(*o.violation) != best.verdict) return false;
        if (o.schedule.size() > best.schedule.size() ||
            (o.schedule.size() == best.schedule.size() && o.faults >= count_faults(best.schedule)))
            return false;
        best.schedule = o.schedule;
        best.violation = *o.violation;
        best.transcript = o.transcript;
        return true;
    };
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = best.schedule.size(); i-- > 0;) {
            Schedule candidate = best.schedule;
            candidate.erase(candidate.begin() + static_cast<long>(i));
            if (attempt(candidate)) {
                progress = true;
                break;
            }
        }
    }
    return best;
}

}  // namespace ilk
