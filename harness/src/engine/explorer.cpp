#include "engine/explorer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "interrupt.h"
#include "json_number.h"

namespace ilk {

using json = nlohmann::json;

Verdict verdict_of(const Violation& v) {
    if (v.kind == "exclusion" || v.kind == "collateral") return Verdict::UNSAFE;
    if (v.kind == "liveness") return Verdict::STUCK;
    if (v.kind == "unsupported") return Verdict::UNSUPPORTED;
    return Verdict::ERROR;
}

namespace {
json violation_json(const Violation& v) {
    json out{{"kind", v.kind}, {"explanation", v.explanation}};
    if (v.exposure_ms >= 0) out["exposure_ms"] = v.exposure_ms;
    if (v.exposure_steps >= 0) out["exposure_steps"] = v.exposure_steps;
    if (!v.holder_saw.empty()) {
        out["holder_saw"] = v.holder_saw;
        out["never_told"] = v.never_told;
    }
    return out;
}
}  // namespace

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
            {"violation", violation_json(violation)},
            {"transcript", transcript},
            {"shrunk_from", shrunk_from},
            {"network_mount", network_mount.empty() ? json(nullptr) : json(network_mount)}};
}

Counterexample Counterexample::from_json(const json& j) {
    if (j.value("kind", "") != "ilk-counterexample") throw std::runtime_error("not an ilk counterexample file (kind is not \"ilk-counterexample\")");
    Counterexample cx;
    cx.strategy = j.at("strategy").get<StrategySpec>();
    cx.scenario = j.at("scenario").get<std::string>();
    cx.variant = j.value("variant", "");
    cx.schedule = j.at("schedule").get<Schedule>();
    cx.mode = j.value("mode", "");
    cx.seed = number_or(j, "seed", 0ull);
    // Only a finding has a counterexample: anything else is a broken file, not a verdict to replay towards.
    cx.verdict = verdict_from_string(j.at("verdict").get<std::string>());
    if (!has_counterexample(cx.verdict)) {
        std::vector<std::string_view> can;
        for (const VerdictRow& row : kVerdictTable)
            if (row.counterexample) can.push_back(row.name);
        throw std::runtime_error(
            fmt::format("verdict '{}' cannot have a counterexample (only {})", to_string(cx.verdict), fmt::join(can, " or ")));
    }
    const json& v = j.at("violation");  // operator[] of a const json is undefined for a missing key
    cx.violation = {v.value("kind", ""), v.value("explanation", "")};
    cx.violation.exposure_ms = number_or(v, "exposure_ms", -1.0);
    cx.violation.exposure_steps = number_or(v, "exposure_steps", -1);
    cx.violation.holder_saw = v.value("holder_saw", "");
    cx.violation.never_told = v.value("never_told", false);
    cx.transcript = j.value("transcript", json::object());
    cx.shrunk_from = number_or(j, "shrunk_from", 0);
    if (j.contains("network_mount") && j["network_mount"].is_string()) cx.network_mount = j["network_mount"].get<std::string>();
    return cx;
}

void resolve_for_replay(Counterexample& cx, const std::vector<StrategySpec>& defined) {
    const Scenario* s = find_scenario(cx.scenario);
    if (!s) throw std::runtime_error(fmt::format("unknown scenario '{}' (ilk list scenarios names those this kit has)", cx.scenario));
    if (std::find(s->variants.begin(), s->variants.end(), cx.variant) == s->variants.end())
        throw std::runtime_error(fmt::format("scenario {} has no variant '{}' (it has: {})", s->name, cx.variant,
                                             fmt::join(s->variants, ", ")));
    const auto it = std::find_if(defined.begin(), defined.end(), [&](const StrategySpec& d) { return d.name == cx.strategy.name; });
    if (it == defined.end())
        throw std::runtime_error(fmt::format("strategy '{}' is defined in no strategy or server file here; the file's own copy is "
                                             "not run: put the file that defines it in ILK_STRATEGY_PATH (or ILK_SERVER_PATH)",
                                             cx.strategy.name));
    // Compared as the report writes them, without where each was defined.
    auto definition = [](const StrategySpec& spec) {
        json j = spec;
        j.erase("where");
        if (j.contains("server") && j["server"].is_object()) j["server"].erase("where");
        return j;
    };
    const json here = definition(*it), there = definition(cx.strategy);
    if (here != there) {
        std::vector<std::string> keys;
        for (const auto& [k, v] : here.items())
            if (!there.contains(k) || there[k] != v) keys.push_back(k);
        for (const auto& [k, v] : there.items())
            if (!here.contains(k)) keys.push_back(k);
        throw std::runtime_error(fmt::format("strategy '{}' in the file differs from its definition here ({}) in {}; the file's copy is "
                                             "not run: replay it where it was found, or with that definition in ILK_STRATEGY_PATH",
                                             cx.strategy.name, it->where, fmt::join(keys, ", ")));
    }
    cx.strategy = *it;
}

namespace {

int count_faults(const Schedule& s) {
    return static_cast<int>(std::count_if(s.begin(), s.end(), [](const std::string& c) { return c[0] == '!'; }));
}

int starters_for(const Scenario& s, const std::string& variant) {
    if (s.starters_in) return s.starters_in(variant);
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
    std::unique_ptr<Trial> made;
    try {
        made = std::make_unique<Trial>(env, strategy, trial_index);
    } catch (const std::exception& e) {  // the data directory's host failed (an agent gone)
        out.violation = Violation{"error", fmt::format("cannot make the trial's data directory: {}", e.what())};
        out.transcript = nlohmann::json::object();
        return out;
    }
    Trial& t = *made;
    try {
        body(t, out);
    } catch (const Interrupted&) {
        throw;
    } catch (const UnsupportedHere& e) {
        out.violation = Violation{"unsupported", e.what()};
    } catch (const std::exception& e) {
        out.violation = Violation{"error", e.what()};
    }
    if (env.lab) {
        // Links up and settings back before the trial's data directory is removed through them.
        try {
            env.lab->restore();
        } catch (const std::exception& e) {
            if (!out.violation) out.violation = Violation{"error", fmt::format("the lab could not be restored after the trial: {}", e.what())};
        }
    }
    out.transcript = t.transcript();
    return out;
}

// Plant the scenario (its set-up, then the oracle's first look).
void plant(Trial& t, const Scenario& scenario, const std::string& variant, ScheduleOutcome& out) {
    scenario.setup(t, variant);
    out.violation = t.check();
}

// Its starters B, C, ... (gated, or free-running), unless the oracle spoke.
std::vector<Contender*> start_starters(Trial& t, const Scenario& scenario, const std::string& variant, bool free_running,
                                       ScheduleOutcome& out, std::uint64_t* rng = nullptr) {
    std::vector<Contender*> starters;
    const int n = starters_for(scenario, variant);
    std::vector<int> order(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    if (rng)
        for (int i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[next_random(rng) % static_cast<std::uint64_t>(i + 1)]);
    std::string started;
    for (int k = 0; k < n && !out.violation; ++k) {
        const int i = order[static_cast<size_t>(k)];
        SpawnOptions o = scenario.starter(t, variant, i);
        o.free_running = free_running;
        const std::string name(1, static_cast<char>('B' + i));
        if (rng && k > 0) {
            const unsigned gap = static_cast<unsigned>(next_random(rng) % 20001);
            usleep(gap);
            started += fmt::format(", {} after {:.1f} ms", name, gap / 1000.0);
        } else {
            started += (k ? ", " : "") + name;
        }
        starters.push_back(&t.spawn(name, o, !free_running));
    }
    if (rng && n > 1) t.find("B")->transcript.push_back({{"step", "STARTED IN THIS ORDER"}, {"saw", started}, {"decision", 0}});
    return starters;
}

// A trial alone: a batch of one around the scenario's lab acts (plant, event,
// starters, settle, finish). Returns whether the event was staged (then settle is due).
bool lab_event_alone(Trial& t, const Scenario& scenario, const std::string& variant, const ScheduleOutcome& out) {
    if (!scenario.event || out.violation) return false;
    scenario.event(scenario_util::lab(t), variant, {&t});
    return true;
}

// Two servers held the directory at once: for how long, and what the first
// of them saw when it was asked (its transcript's "command observe" and its
// client's kernel log, added by the scenario's after).
void told(Trial& t, Violation& v) {
    v.exposure_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - v.since).count();
    const Contender* first = nullptr;
    for (const auto& c : t.contenders())
        if (c->running_at >= 0 && (!first || c->running_at < first->running_at)) first = c.get();
    if (!first) return;
    std::string io, kernel;
    for (const auto& step : first->transcript) {
        if (step["step"] == "command observe") io = step["saw"];
        if (step["step"] == "its client's kernel log") kernel = step["saw"];
    }
    if (io.empty() && kernel.empty()) return;
    // An errno on its I/O, or I/O that hung (the observer gave up on it): it would have noticed.
    const bool io_error = !io.empty() && (io.find(" E") != std::string::npos || io.rfind("timed out", 0) == 0);
    const bool logged = !kernel.empty() && kernel != "nothing";
    v.never_told = !io_error && !logged;
    v.holder_saw = fmt::format("{}: its I/O: {}; its client's kernel log: {}", first->name, io.empty() ? "not asked" : io,
                               kernel.empty() ? "not read" : kernel);
    v.explanation += fmt::format(" Both ran at once for at least {:.1f} s, until the kit ended the trial. {} {}", v.exposure_ms / 1000,
                                 v.never_told ? fmt::format("{} was never told:", first->name) : fmt::format("What {} saw:", first->name),
                                 v.holder_saw);
}

// The starters are done, or a violation stopped them, and the lab has
// settled: the scenario's after (the holders asked what they saw), then the
// oracle's last word, liveness. A violation is judged as it was found.
void finish(Trial& t, const Scenario& scenario, const std::string& variant, ScheduleOutcome& out) {
    if (scenario.after) scenario.after(t, variant);
    if (scenario.after || scenario.settle) {
        if (!out.violation) out.violation = t.check();
        if (out.violation && out.violation->kind == "exclusion") told(t, *out.violation);
    }
    if (!out.violation) out.violation = t.check_liveness(scenario.starter(t, variant, 0));
}

}  // namespace

PctPlan make_pct_plan(std::uint64_t seed, int contenders, int steps, int depth, int faults) {
    std::uint64_t state = seed;
    PctPlan plan;
    const int n = std::max(1, contenders), k = std::max(1, steps), d = std::max(1, depth);
    for (int i = 0; i < n; ++i) plan.priority.push_back(d + i);
    for (int i = n - 1; i > 0; --i)  // Fisher-Yates: a uniformly random order
        std::swap(plan.priority[static_cast<size_t>(i)], plan.priority[next_random(&state) % static_cast<std::uint64_t>(i + 1)]);
    for (int i = 0; i < d - 1; ++i) plan.change_points.push_back(1 + static_cast<int>(next_random(&state) % static_cast<std::uint64_t>(k)));
    for (int i = 0; i < faults; ++i) plan.fault_points.push_back(1 + static_cast<int>(next_random(&state) % static_cast<std::uint64_t>(k)));
    return plan;
}

double pct_probability(int contenders, int steps, int depth, int faults, int runs) {
    const double n = std::max(1, contenders), k = std::max(1, steps);
    const double one = 1.0 / (n * std::pow(k, std::max(0, depth - 1)) * std::pow(n * k, std::max(0, faults)));
    if (runs <= 0) return 0;
    if (one >= 1) return 1;
    return -std::expm1(runs * std::log1p(-one));  // 1 - (1 - one)^runs without the rounding of 1 - tiny
}

namespace {

// Two servers hold the directory. A strategy whose running servers recheck
// may still end the overlap: their rechecks are taken, one at a time, until
// one of the two shuts down or none is left. The verdict stays UNSAFE (both
// ran); the exposure is how many steps it lasted.
void overlap_after(Trial& t, Violation& v) {
    int steps = 0;
    std::string ended;
    while (t.holders() >= 2) {
        Contender* next = nullptr;
        for (const auto& c : t.contenders())
            if (c->state == Contender::State::running && c->can_step()) {
                next = c.get();
                break;
            }
        if (!next) break;
        t.advance(*next);
        ++steps;
        if (next->state != Contender::State::running) ended = fmt::format("{} ({})", next->name, next->why);
    }
    if (steps == 0) return;
    if (t.holders() < 2) {
        v.exposure_steps = steps;
        v.explanation += fmt::format(" A recheck ended the overlap {} step{} later: {} shut down.", steps, steps == 1 ? "" : "s", ended);
    } else {
        v.explanation += fmt::format(" No recheck ended it: both still held the directory after {} recheck step{}.", steps, steps == 1 ? "" : "s");
    }
}

// The same, free-running: wait for a recheck to end it (each server's
// rechecks, recheck_ms apart, and a second more).
void overlap_after_free(Trial& t, Violation& v) {
    const StrategySpec& s = t.strategy();
    if (s.rechecks == 0) return;
    const auto interval = std::chrono::milliseconds(s.recheck_ms);
    const auto deadline = v.since + interval * (s.rechecks + 1) + std::chrono::seconds(1);
    // Free-running servers recheck on their own; a set-up server (started
    // gated) at its recheck gate is let go every interval.
    auto due = v.since + interval;
    while (t.holders() >= 2 && std::chrono::steady_clock::now() < deadline) {
        throw_if_interrupted();
        if (std::chrono::steady_clock::now() >= due) {
            for (const auto& c : t.contenders())
                if (c->state == Contender::State::running && c->can_step()) t.advance(*c);
            due += interval;
        }
        usleep(2000);
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - v.since).count();
    if (t.holders() < 2) {
        v.exposure_ms = ms;
        v.explanation += fmt::format(" A recheck ended the overlap {:.0f} ms later (rechecks every {} ms).", ms, s.recheck_ms);
    } else {
        v.explanation += fmt::format(" No recheck ended it: both still held the directory {:.0f} ms later.", ms);
    }
}

// The starters' steps (and those of running servers: their rechecks): the
// prefix's decisions, then the default policy's (or PCT's, or the random
// generator's), until none can move or the oracle speaks.
void drive(Trial& t, const std::vector<Contender*>& starters, const Schedule& prefix, int max_faults, std::uint64_t* rng,
           const PctPlan* pct, const StopAt* stop_at, ScheduleOutcome& out) {
    std::string last;
    int preemptions = 0;
    std::map<std::string, std::vector<std::string>> wrote;  // by contender: the objects its steps may have changed
    std::vector<int> priority = pct ? pct->priority : std::vector<int>{};
    while (!out.violation) {
        throw_if_interrupted();
        // The starters, then running servers at a step of their own (a recheck).
        std::vector<std::string> enabled, faultable;
        for (Contender* c : starters)
            if (c->can_step()) enabled.push_back(c->name);
        for (const auto& c : t.contenders())
            if (c->can_step() && std::find(starters.begin(), starters.end(), c.get()) == starters.end()) enabled.push_back(c->name);
        for (Contender* c : starters)
            if (c->enabled()) faultable.push_back(c->name);
        if (enabled.empty()) break;
        const bool last_enabled = std::find(enabled.begin(), enabled.end(), last) != enabled.end();
        ScheduleOutcome::Point p{{}, 0, preemptions, out.faults, last, enabled, {}, true};
        p.options.push_back(last_enabled ? last : enabled.front());
        for (const auto& e : enabled)
            if (e != p.options.front()) p.options.push_back(e);
        if (out.faults < max_faults)
            for (const auto& e : faultable) p.options.push_back("!" + e);
        const size_t pos = out.points.size();
        if (pos < prefix.size()) {
            auto it = std::find(p.options.begin(), p.options.end(), prefix[pos]);
            if (it == p.options.end()) {
                out.diverged = true;
                break;
            }
            p.chosen = static_cast<size_t>(it - p.options.begin());
        } else if (stop_at && (*stop_at)(out, p)) {
            p.executed = false;
            out.points.push_back(p);
            out.blocked = true;
            break;
        } else if (pct) {
            // The highest-priority enabled contender moves (or is killed at a fault point).
            const int step = static_cast<int>(pos) + 1;
            size_t best = 0;
            int best_priority = -1;
            for (size_t i = 0; i < starters.size(); ++i)
                if (starters[i]->can_step() && i < priority.size() && priority[i] > best_priority) best = i, best_priority = priority[i];
            const std::string who = starters[best]->name;
            const bool fault = out.faults < max_faults &&
                               std::find(pct->fault_points.begin(), pct->fault_points.end(), step) != pct->fault_points.end();
            const auto it = std::find(p.options.begin(), p.options.end(), fault ? "!" + who : who);
            p.chosen = it == p.options.end() ? 0 : static_cast<size_t>(it - p.options.begin());
            for (size_t j = 0; j < pct->change_points.size(); ++j)  // the j-th change point's priority is j + 1, below every initial one
                if (pct->change_points[j] == step) priority[best] = static_cast<int>(j) + 1;
        } else if (rng) {
            const bool fault = out.faults < max_faults && next_random(rng) % 10 == 0;
            const std::string who = enabled[next_random(rng) % enabled.size()];
            p.chosen = static_cast<size_t>(std::find(p.options.begin(), p.options.end(), fault ? "!" + who : who) - p.options.begin());
        }
        const std::string choice = p.options[p.chosen];
        out.points.push_back(p);
        out.schedule.push_back(choice);
        if (choice[0] == '!') {
            // What others can see of the killed one: its PID, and the locks
            // and attachments it held (on what it wrote before).
            std::vector<std::string> on = wrote[choice.substr(1)];
            on.push_back("pids");
            out.points.back().effect = Access{on, true};
            t.crash(*t.find(choice.substr(1)), false);
            ++out.faults;
            last.clear();
        } else {
            if (last_enabled && choice != last) ++preemptions;
            Contender& c = *t.find(choice);
            const Access announced = c.next;
            const bool was_running = c.state == Contender::State::running;
            t.advance(c);
            // A step that ended its contender (running, refused, died) changed what
            // others see of it (liveness, locks, attach counts): it commutes with nothing.
            // A recheck that left its server running only read.
            if (c.enabled() || (was_running && c.state == Contender::State::running))
                out.points.back().effect = Access{announced.on, announced.write && c.changed};
            if (announced.write && c.changed)
                for (const auto& x : announced.on)
                    if (std::find(wrote[choice].begin(), wrote[choice].end(), x) == wrote[choice].end()) wrote[choice].push_back(x);
            last = choice;
        }
        out.violation = t.check();
    }
    if (out.violation && out.violation->kind == "exclusion") overlap_after(t, *out.violation);
}

}  // namespace

ScheduleOutcome run_schedule(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario,
                             const std::string& variant, const Schedule& prefix, int max_faults, std::uint64_t* rng,
                             int trial_index, const PctPlan* pct, const StopAt* stop_at) {
    return in_trial(env, strategy, trial_index, [&](Trial& t, ScheduleOutcome& out) {
        plant(t, scenario, variant, out);
        const bool evented = lab_event_alone(t, scenario, variant, out);
        drive(t, start_starters(t, scenario, variant, false, out), prefix, max_faults, rng, pct, stop_at, out);
        if (out.diverged || out.blocked) return;
        if (evented && scenario.settle) scenario.settle(scenario_util::lab(t), variant, {&t});
        finish(t, scenario, variant, out);
    });
}

ScheduleOutcome run_free(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario,
                         const std::string& variant, int trial_index, std::uint64_t* rng) {
    int running = 0, orphaned = 0;
    std::vector<std::string> refusals;  // the first line of each refusal's evidence, numbers as N (so trials can be counted alike)
    ScheduleOutcome done = in_trial(env, strategy, trial_index, [&](Trial& t, ScheduleOutcome& out) {
        plant(t, scenario, variant, out);
        const bool evented = lab_event_alone(t, scenario, variant, out);
        start_starters(t, scenario, variant, true, out, rng);
        if (!out.violation) {
            t.run_free_to_end();
            out.violation = t.check();
            for (const auto& c : t.contenders())
                if (c->holds()) ++(c->state == Contender::State::running ? running : orphaned);
            if (out.violation && out.violation->kind == "exclusion") overlap_after_free(t, *out.violation);
        }
        if (evented && scenario.settle) scenario.settle(scenario_util::lab(t), variant, {&t});
        finish(t, scenario, variant, out);
        for (const auto& c : t.contenders()) {
            if (c->state != Contender::State::refused || c->name == "L") continue;
            std::string line = c->why.substr(0, c->why.find(" / "));
            line = std::regex_replace(line, std::regex("[0-9]+"), "N");
            if (std::find(refusals.begin(), refusals.end(), line) == refusals.end()) refusals.push_back(line);
        }
    });
    // How it ended, in words a rate can be given of.
    const std::string kind = done.violation ? done.violation->kind : "";
    done.outcome = kind == "exclusion"     ? "two holding the data directory at once"
                   : kind == "collateral"  ? "harm to an unrelated process or segment"
                   : kind == "liveness"    ? "none running, and a lone starter refused"
                   : kind == "error"       ? "an error of the kit or the server"
                   : kind == "unsupported" ? "not staged here"
                   : running == 1 && orphaned == 0 ? "exactly one running"
                   : running == 0 && orphaned == 1 ? "only the crashed server's backends holding"
                                                   : "none running, and a lone starter could start";
    if (strategy.server && !refusals.empty() && (kind.empty() || kind == "liveness"))
        done.outcome += fmt::format(" (refused: {})", fmt::join(refusals, "; "));
    return done;
}

bool batchable(const Scenario& s) {
    if (!s.network || !s.event || s.faults > 0) return false;
    return std::all_of(s.variants.begin(), s.variants.end(), [&](const std::string& v) { return starters_for(s, v) == 1; });
}

std::vector<VariantOutcomes> run_batch(const TrialEnv& env, const std::vector<const StrategySpec*>& strategies, const Scenario& scenario,
                                       const std::function<void(const std::string&)>& progress) {
    if (!env.lab) throw std::logic_error("run_batch needs a network mount's lab");
    std::vector<VariantOutcomes> outcomes(strategies.size());
    for (const std::string& variant : scenario.variants) {
        throw_if_interrupted();
        struct Slot {
            std::unique_ptr<Trial> trial;
            ScheduleOutcome out;
            bool stopped = false;  // an exception ended it (its violation says what), as it ends a trial alone
            bool evented = false;
        };
        const auto began = std::chrono::steady_clock::now();
        std::vector<Slot> slots(strategies.size());
        // Each phase of each trial as in_trial runs a trial alone: what it throws is its own violation.
        auto step = [](Slot& slot, const std::function<void()>& phase) {
            if (slot.stopped || !slot.trial) return;
            try {
                phase();
            } catch (const Interrupted&) {
                throw;
            } catch (const UnsupportedHere& e) {
                slot.out.violation = Violation{"unsupported", e.what()};
                slot.stopped = true;
            } catch (const std::exception& e) {
                slot.out.violation = Violation{"error", e.what()};
                slot.stopped = true;
            }
        };
        // The whole lab at once: a failure is every trial's that it concerned.
        auto lab_act = [&](Scenario::LabAct act, const std::vector<Slot*>& of, const char* what) {
            std::vector<Trial*> trials;
            for (Slot* slot : of) trials.push_back(slot->trial.get());
            try {
                act(*env.lab, variant, trials);
            } catch (const Interrupted&) {
                throw;
            } catch (const std::exception& e) {
                const bool unsupported = dynamic_cast<const UnsupportedHere*>(&e) != nullptr;
                for (Slot* slot : of) {
                    slot->out.violation = Violation{unsupported ? "unsupported" : "error",
                                                    unsupported ? std::string(e.what()) : fmt::format("the lab's {} failed: {}", what, e.what())};
                    slot->stopped = true;
                }
            }
        };
        if (progress)
            progress(fmt::format("{}{}: {} strategies around one lab event", scenario.name, variant.empty() ? "" : " (" + variant + ")",
                                 strategies.size()));
        for (size_t i = 0; i < strategies.size(); ++i) {
            try {
                slots[i].trial = std::make_unique<Trial>(env, *strategies[i], static_cast<int>(i));
            } catch (const std::exception& e) {
                slots[i].out.violation = Violation{"error", fmt::format("cannot make the trial's data directory: {}", e.what())};
                slots[i].out.transcript = json::object();
                continue;
            }
            step(slots[i], [&] { plant(*slots[i].trial, scenario, variant, slots[i].out); });
        }
        std::vector<Slot*> planted;
        for (Slot& slot : slots)
            if (slot.trial && !slot.stopped && !slot.out.violation) planted.push_back(&slot);
        if (!planted.empty()) {
            lab_act(scenario.event, planted, "event");
            for (Slot* slot : planted) slot->evented = !slot->stopped;
        }
        for (Slot& slot : slots)
            step(slot, [&] { drive(*slot.trial, start_starters(*slot.trial, scenario, variant, false, slot.out), {}, 0, nullptr, nullptr, nullptr, slot.out); });
        std::vector<Slot*> to_settle;
        for (Slot& slot : slots)
            if (slot.evented && !slot.stopped) to_settle.push_back(&slot);
        if (scenario.settle && !to_settle.empty()) lab_act(scenario.settle, to_settle, "settling");
        for (Slot& slot : slots) step(slot, [&] { finish(*slot.trial, scenario, variant, slot.out); });
        // Links up and settings back before the trials' data directories are removed through them.
        try {
            env.lab->restore();
        } catch (const std::exception& e) {
            for (Slot& slot : slots)
                if (!slot.out.violation)
                    slot.out.violation = Violation{"error", fmt::format("the lab could not be restored after the trial: {}", e.what())};
        }
        for (size_t i = 0; i < slots.size(); ++i) {
            if (slots[i].trial) slots[i].out.transcript = slots[i].trial->transcript();
            slots[i].trial.reset();  // its data directory removed
        }
        const double share = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count() /
                             static_cast<double>(slots.size());
        for (size_t i = 0; i < slots.size(); ++i) {
            slots[i].out.shared_ms = share;
            outcomes[i][variant] = std::move(slots[i].out);
        }
    }
    return outcomes;
}

namespace {

// The exhaustive search: a depth-first walk over the decision points of
// replayed schedules within the bounds. Each pass caps preemptions and
// faults: crash-free passes with a growing preemption budget come first, then
// the same with crashes, so the simplest interleavings are found first
// (iterative deepening, as in CHESS) and the cap is not spent on crash
// placements before the races without one.
//
// With reduction on, the walk keeps a sleep set per point (Godefroid,
// "Partial-Order Methods for the Verification of Concurrent Systems", 1996;
// as in Flanagan & Godefroid, POPL 2005): a decision that was explored from
// an ancestor, and that commutes with everything done since (different
// objects, or reads of the same one, as the gates announced; a crash touches
// the PIDs and what the killed contender wrote), leads only to schedules
// equivalent to ones already run, so it is not taken again. A crash right
// after the crashed contender's own read is the same as the crash one point
// earlier (a read changes nothing others see), which the walk also offers, at
// no more preemptions. And a schedule already run in an earlier pass is not
// run again: its outcome is kept.
class Search {
public:
    Search(const ScheduleOptions& opt) : opt_(opt) {}

    void begin_variant() { cache_.clear(); }
    void begin_pass() { nodes_.clear(); }
    int pruned() const { return pruned_; }

    // The outcome of the schedule that starts with `prefix`: from an earlier
    // pass when it ran there (and nothing now stops it earlier than it
    // stopped then), else by running it. *ran tells which.
    template <typename Run>
    ScheduleOutcome outcome(const Schedule& prefix, Run&& run, bool* ran) {
        nodes_.resize(std::min(nodes_.size(), prefix.size()));
        *ran = false;
        if (opt_.reduce) {
            if (auto it = cache_.find(prefix); it != cache_.end()) {
                ScheduleOutcome o = it->second;
                if (replay_stops(o, prefix.size())) return o;
            }
        }
        *ran = true;
        const StopAt stop = [this](const ScheduleOutcome& so_far, const ScheduleOutcome::Point& here) {
            return asleep(so_far, here);
        };
        ScheduleOutcome o = run(opt_.reduce ? &stop : nullptr);
        if (o.blocked) ++pruned_;
        if (opt_.reduce) {
            ScheduleOutcome kept = o;
            kept.transcript = nullptr;  // its findings were taken when it ran
            kept.violation.reset();
            cache_.insert_or_assign(prefix, std::move(kept));  // replaces one that stopped earlier than this pass would
        }
        return o;
    }

    // The next prefix, or nullopt when this pass is done. *limited is set when
    // some option was left out only because of the budget.
    std::optional<Schedule> next(const ScheduleOutcome& o, int fault_budget, int preemption_budget, bool* limited) {
        for (size_t i = o.points.size(); i-- > 0;) {
            const auto& p = o.points[i];
            node(i, o);
            if (p.executed) nodes_[i].done.push_back({p.options[p.chosen], p.effect});
            const bool last_enabled = std::find(p.enabled.begin(), p.enabled.end(), p.last) != p.enabled.end();
            for (size_t j = p.chosen + 1; j < p.options.size(); ++j) {
                const std::string& c = p.options[j];
                const bool fault = c[0] == '!';
                const int faults = p.faults_before + (fault ? 1 : 0);
                const int preemptions = p.preemptions_before + (!fault && last_enabled && c != p.last ? 1 : 0);
                if (faults > opt_.max_faults || preemptions > opt_.preemption_bound) continue;
                if (opt_.reduce && (sleeping(nodes_[i], c) || (fault && crash_after_own_read(o, i, c.substr(1))))) {
                    ++pruned_;
                    continue;
                }
                if (faults > fault_budget || preemptions > preemption_budget) {
                    *limited = true;
                    continue;
                }
                nodes_.resize(i + 1);
                Schedule prefix(o.schedule.begin(), o.schedule.begin() + static_cast<long>(i));
                prefix.push_back(c);
                return prefix;
            }
        }
        return std::nullopt;
    }

private:
    struct Entry {
        std::string who;
        Access effect;
    };
    struct Node {
        std::vector<Entry> sleep;  // moves not to take here
        std::vector<Entry> done;   // moves taken here already, with what they touched
    };

    static bool sleeping(const Node& n, const std::string& who) {
        return std::any_of(n.sleep.begin(), n.sleep.end(), [&](const Entry& e) { return e.who == who; });
    }
    static bool crash_after_own_read(const ScheduleOutcome& o, size_t i, const std::string& who) {
        if (i == 0) return false;
        const auto& before = o.points[i - 1];
        return before.executed && before.options[before.chosen] == who && !before.effect.global() && !before.effect.write;
    }
    // The node of point k (made from its parent's when new): what slept or was
    // done at k - 1 and commutes with the decision taken there sleeps at k.
    Node& node(size_t k, const ScheduleOutcome& o) {
        while (nodes_.size() <= k) {
            const size_t at = nodes_.size();
            Node n;
            if (at > 0) {
                const Node& parent = nodes_[at - 1];
                const Access& taken = o.points[at - 1].effect;
                for (const auto* list : {&parent.sleep, &parent.done})
                    for (const Entry& e : *list)
                        if (e.effect.independent_of(taken)) n.sleep.push_back(e);
            }
            nodes_.push_back(std::move(n));
        }
        return nodes_[k];
    }
    bool asleep(const ScheduleOutcome& so_far, const ScheduleOutcome::Point& here) {
        return sleeping(node(so_far.points.size(), so_far), here.options.front());
    }
    // A kept outcome walked with this pass's sleep sets: true when it stands
    // (cut where it now stops), false when it stopped earlier than it would now.
    bool replay_stops(ScheduleOutcome& o, size_t from) {
        for (size_t k = from; k < o.points.size(); ++k) {
            if (sleeping(node(k, o), o.points[k].options.front())) {
                o.points.resize(k + 1);
                o.points[k].executed = false;
                o.schedule.resize(k);
                o.blocked = true;
                return true;
            }
            if (!o.points[k].executed) return false;
        }
        return true;
    }

    const ScheduleOptions& opt_;
    std::vector<Node> nodes_;
    std::map<Schedule, ScheduleOutcome> cache_;
    int pruned_ = 0;
};

}  // namespace

namespace {

std::string percent(double p) { return p >= 0.9995 ? "100%" : fmt::format("{:.3g}%", p * 100); }

}  // namespace

CellResult explore(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario, const ScheduleOptions& options,
                   const VariantOutcomes* batched) {
    const auto t0 = std::chrono::steady_clock::now();
    // The share of the batches whose outcomes this cell took: part of its time,
    // not of its budget (the batch ran before it, for every strategy).
    double batch_ms = 0;
    auto elapsed_ms = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(); };
    ScheduleOptions opt = options;
    opt.max_faults = std::min(options.max_faults, scenario.faults);
    // A real server has no gates: its starters run free, each trial with its
    // own seeded start order and timing, and every trial is run (its rates are
    // the result, not only its worst outcome).
    const bool real = strategy.server.has_value();
    if (real) {
        opt.mode = ScheduleOptions::Mode::stress;
        opt.trials = opt.server_trials;
    }
    CellResult cell;
    cell.strategy = strategy.name;
    cell.scenario = scenario.name;
    bool unsupported = false, budget_spent = false;
    // A network scenario's variants are the questions it asks (notify or not,
    // recover_lost_locks 0 or 1): each is judged, and the search of one stops
    // at its first UNSAFE, not the cell's. A real server's are each judged too.
    const bool every_variant = scenario.network || real;
    auto variant_result = [&](const std::string& variant) -> CellResult::VariantResult& {
        for (auto& r : cell.variants)
            if (r.variant == variant) return r;
        CellResult::VariantResult fresh;
        fresh.variant = variant;
        return cell.variants.emplace_back(std::move(fresh));
    };
    auto out_of_time = [&] {
        if (opt.budget_ms > 0 && elapsed_ms() >= opt.budget_ms) budget_spent = true;
        return budget_spent;
    };
    auto consider = [&](const ScheduleOutcome& o, const std::string& variant, std::uint64_t seed, const char* mode) {
        cell.schedules += 1;
        cell.faults += o.faults;
        CellResult::VariantResult* vr = every_variant ? &variant_result(variant) : nullptr;
        if (vr) ++vr->schedules;
        if (vr && real && !o.outcome.empty()) {
            auto it = std::find_if(vr->outcomes.begin(), vr->outcomes.end(), [&](const auto& p) { return p.first == o.outcome; });
            if (it == vr->outcomes.end()) vr->outcomes.emplace_back(o.outcome, 1);
            else ++it->second;
        }
        if (!o.violation) return;
        if (vr && severity(verdict_of(*o.violation)) > severity(vr->verdict)) {
            vr->verdict = verdict_of(*o.violation);
            vr->never_told = o.violation->never_told;
            vr->exposure_ms = o.violation->exposure_ms;
        }
        if (o.violation->kind == "unsupported") {
            unsupported = true;
            cell.reason = o.violation->explanation;
            return;
        }
        const Verdict v = verdict_of(*o.violation);
        const Counterexample cx{strategy, scenario.name, variant, o.schedule, mode, seed, v, *o.violation,
                                o.transcript, static_cast<int>(o.schedule.size()), env.lab ? env.lab->mount() : std::string()};
        const bool new_kind = has_counterexample(v) && std::none_of(cell.findings.begin(), cell.findings.end(), [&](const CellResult::Finding& f) {
                                  return f.counterexample.violation.kind == o.violation->kind &&
                                         (!every_variant || f.counterexample.variant == variant);
                              });
        if (new_kind) cell.findings.push_back({cx, {}});
        if (severity(v) <= severity(cell.verdict)) return;
        cell.verdict = v;
        cell.reason = o.violation->explanation;
        cell.found_ms = batch_ms + elapsed_ms();
        cell.counterexample = cx;
    };
    std::string variant_now;
    auto done = [&] {
        if (unsupported) return true;
        if (real) return false;
        if (!every_variant) return cell.verdict == Verdict::UNSAFE;
        return std::any_of(cell.variants.begin(), cell.variants.end(),
                           [&](const CellResult::VariantResult& r) { return r.variant == variant_now && r.verdict == Verdict::UNSAFE; });
    };
    // PCT runs on one variant; k grows with the longest run seen. Returns the
    // bounds reached (for bugs needing no crash, and needing opt.max_faults).
    int trial_index = 0;
    double pct_bound = 1, pct_bound_crash = 1;
    int pct_runs_total = 0, pct_steps = 0;
    auto run_pct = [&](const std::string& variant, int runs, int steps) {
        const int n = starters_for(scenario, variant);
        int clean = 0, crashed = 0;
        for (int i = 0; i < runs && !done() && !out_of_time(); ++i) {
            const std::uint64_t seed = opt.seed * 1000003ULL + static_cast<std::uint64_t>(i);
            const int faults = (i % 2 == 1) ? opt.max_faults : 0;  // every other run crashes a contender at a random step
            const PctPlan plan = make_pct_plan(seed, n, steps, opt.depth, faults);
            const ScheduleOutcome o = run_schedule(env, strategy, scenario, variant, {}, faults, nullptr, trial_index++, &plan);
            consider(o, variant, seed, "pct");
            steps = std::max(steps, static_cast<int>(o.schedule.size()));
            ++(faults ? crashed : clean);
        }
        pct_runs_total += clean + crashed;
        pct_steps = std::max(pct_steps, steps);
        pct_bound = std::min(pct_bound, pct_probability(n, steps, opt.depth, 0, clean));
        pct_bound_crash = std::min(pct_bound_crash, opt.max_faults ? pct_probability(n, steps, opt.depth, opt.max_faults, crashed) : 1.0);
    };
    std::vector<std::string> capped;  // exhaustive: variants whose cap was hit
    Search search(opt);
    try {
    for (const std::string& variant : scenario.variants) {
        variant_now = variant;
        if (done() || out_of_time()) break;
        if (every_variant) variant_result(variant);
        if (opt.mode == ScheduleOptions::Mode::stress) {
            for (int i = 0; i < opt.trials && !done() && !out_of_time(); ++i) {
                throw_if_interrupted();  // a free-running trial has no gate to stop at
                std::uint64_t state = opt.seed * 1000003ULL + static_cast<std::uint64_t>(i);
                const std::uint64_t seed = state;
                consider(run_free(env, strategy, scenario, variant, trial_index++, real ? &state : nullptr), variant, real ? seed : 0, "stress");
            }
            continue;
        }
        if (opt.mode == ScheduleOptions::Mode::random) {
            for (int i = 0; i < opt.trials && !done() && !out_of_time(); ++i) {
                std::uint64_t state = opt.seed * 1000003ULL + static_cast<std::uint64_t>(i);
                const std::uint64_t seed = state;
                consider(run_schedule(env, strategy, scenario, variant, {}, opt.max_faults, &state, trial_index++), variant, seed, "random");
            }
            continue;
        }
        if (opt.mode == ScheduleOptions::Mode::pct) {
            // One run of the default policy first: k, the steps of a run.
            const ScheduleOutcome first = run_schedule(env, strategy, scenario, variant, {}, 0, nullptr, trial_index++);
            consider(first, variant, 0, "pct");
            run_pct(variant, opt.trials, static_cast<int>(first.schedule.size()));
            continue;
        }
        int n = 0, longest = 0;
        bool stop = false, limited = true, cap_hit = false;
        search.begin_variant();
        // Passes: crash-free first, each with a growing preemption budget, then with crashes.
        std::vector<std::pair<int, int>> passes;
        for (int f = 0; f <= opt.max_faults; ++f)
            for (int p = 0; p <= opt.preemption_bound; ++p) passes.emplace_back(f, p);
        for (size_t pass = 0; pass < passes.size() && !stop && limited; ++pass) {
            const auto [fault_budget, preemption_budget] = passes[pass];
            limited = false;
            search.begin_pass();
            Schedule prefix;
            for (;;) {
                if (n >= opt.max_schedules) {
                    cap_hit = true;
                    stop = true;
                    break;
                }
                if (out_of_time()) {
                    stop = true;
                    break;
                }
                bool ran = false;
                const ScheduleOutcome o = search.outcome(
                    prefix,
                    [&](const StopAt* stop_at) {
                        if (batched && prefix.empty())
                            if (auto it = batched->find(variant); it != batched->end()) {
                                batch_ms += it->second.shared_ms;
                                return it->second;
                            }
                        return run_schedule(env, strategy, scenario, variant, prefix, opt.max_faults, nullptr, trial_index++, nullptr,
                                            stop_at);
                    },
                    &ran);
                if (ran) {
                    ++n;
                    consider(o, variant, 0, "exhaustive");
                }
                longest = std::max(longest, static_cast<int>(o.schedule.size()));
                if (done() || (o.violation && o.violation->kind == "error")) {
                    stop = true;
                    break;
                }
                auto next = search.next(o, fault_budget, preemption_budget, &limited);
                if (!next) break;
                prefix = std::move(*next);
            }
        }
        if (cap_hit) {
            cell.complete = false;
            capped.push_back(variant);
            // The bound did not finish: what lies beyond the cap is sampled with PCT.
            if (!done() && opt.pct_runs > 0) run_pct(variant, opt.pct_runs, longest);
        }
    }
    } catch (const Interrupted&) {
        // Keep what was explored; the caller sees the flag and stops the run.
        cell.complete = false;
        cell.reason = cell.reason.empty() ? "interrupted: partial exploration" : cell.reason;
        cell.coverage = fmt::format("partial: interrupted after {} schedules", cell.schedules);
        cell.elapsed_ms = batch_ms + elapsed_ms();
        return cell;
    }
    cell.pruned = search.pruned();
    if (unsupported && !cell.counterexample) {
        cell.variants.clear();
        cell.verdict = Verdict::UNSUPPORTED;
        cell.schedules = 0;
    }
    // How far the search went: what a SAFE here means.
    const std::string crash = opt.max_faults == 0   ? "no crash"
                              : opt.max_faults == 1 ? "1 crash"
                                                    : fmt::format("{} crashes", opt.max_faults);
    const std::string pct_text =
        pct_runs_total == 0 ? ""
                            : fmt::format("{} PCT runs of depth {} (seed {}, runs of up to {} steps): a given bug of depth {} is found "
                                          "with probability at least {}{}",
                                          pct_runs_total, opt.depth, opt.seed, pct_steps, opt.depth, percent(pct_bound),
                                          opt.max_faults ? fmt::format(", {} if it needs {}", percent(pct_bound_crash), crash) : "");
    if (budget_spent) cell.complete = false;
    if (real) {
        cell.complete = false;
        std::vector<std::string> per_variant;
        for (const CellResult::VariantResult& v : cell.variants) {
            std::vector<std::string> rates;
            for (const auto& [outcome, n] : v.outcomes) rates.push_back(fmt::format("{} in {}/{}", outcome, n, v.schedules));
            per_variant.push_back(fmt::format("{}{}", v.variant.empty() ? "" : v.variant + ": ", fmt::join(rates, ", ")));
        }
        cell.coverage = fmt::format("sampled: {} free-running trials of the real server (seed {}, start order and gaps drawn per trial); {}",
                                    cell.schedules, opt.seed, fmt::join(per_variant, "; "));
    } else if (opt.mode == ScheduleOptions::Mode::stress) {
        cell.complete = false;
        cell.coverage = fmt::format("sampled: {} free-running trials", cell.schedules);
    } else if (opt.mode == ScheduleOptions::Mode::random) {
        cell.complete = false;
        cell.coverage = fmt::format("sampled: {} random schedules (seed {})", cell.schedules, opt.seed);
    } else if (opt.mode == ScheduleOptions::Mode::pct) {
        cell.complete = false;
        cell.coverage = "sampled: " + pct_text;
    } else if (cell.verdict == Verdict::UNSAFE && every_variant) {
        cell.coverage = fmt::format("every variant judged, each until its first UNSAFE, after {} schedule{}", cell.schedules,
                                    cell.schedules == 1 ? "" : "s");
    } else if (cell.verdict == Verdict::UNSAFE) {
        cell.coverage = fmt::format("stopped at the first UNSAFE, after {} schedule{}", cell.schedules, cell.schedules == 1 ? "" : "s");
    } else if (capped.empty() && !budget_spent) {
        cell.coverage = fmt::format("complete: every schedule with up to {} preemptions and {}{} ({} schedule{}{})", opt.preemption_bound,
                                    crash, opt.reduce ? ", one order of the steps that commute" : "", cell.schedules,
                                    cell.schedules == 1 ? "" : "s",
                                    cell.pruned ? fmt::format("; {} equivalent one{} cut short or skipped", cell.pruned, cell.pruned == 1 ? "" : "s")
                                                : "");
    } else if (!capped.empty()) {
        cell.coverage = fmt::format("partial: the cap of {} schedules was hit (variant {}){}", opt.max_schedules, fmt::join(capped, ", "),
                                    pct_text.empty() ? "" : "; then " + pct_text);
    }
    if (budget_spent)
        cell.coverage = fmt::format("partial: the time budget of {:g} s was spent after {} schedules{}", opt.budget_ms / 1000, cell.schedules,
                                    cell.coverage.empty() ? "" : "; " + cell.coverage);
    // Free-running findings have no step schedule to shrink or replay.
    if (opt.mode != ScheduleOptions::Mode::stress) {
        for (CellResult::Finding& f : cell.findings) {
            const bool worst = cell.counterexample && same_finding(f.counterexample, *cell.counterexample);
            f.counterexample = shrink(env, f.counterexample, scenario);
            if (worst) cell.counterexample = f.counterexample;
        }
    }
    if (cell.counterexample) cell.reason = cell.counterexample->violation.explanation;
    cell.elapsed_ms = batch_ms + elapsed_ms();
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
    // One contender's steps and no crash: whatever is dropped, the default
    // policy puts back (nobody else can move), so nothing shorter exists. Not
    // trying spares a trial per step (a lab scenario's trial takes 30 s).
    if (count_faults(cx.schedule) == 0 &&
        std::all_of(cx.schedule.begin(), cx.schedule.end(), [&](const std::string& d) { return d == cx.schedule.front(); }))
        return best;
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
