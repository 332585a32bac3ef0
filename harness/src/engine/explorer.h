// Schedules, verdicts and counterexamples: run a strategy through a scenario
// under many interleavings of its contenders' steps (stateless replay: every
// schedule is a fresh trial), and judge each with the oracle.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/scenario.h"
#include "engine/trial.h"
#include "verdict.h"

namespace ilk {

struct ScheduleOptions {
    enum class Mode { exhaustive, random, stress, pct } mode = Mode::exhaustive;
    int preemption_bound = 2;   // exhaustive: context switches away from a contender that could go on
    int max_faults = 1;         // crashes (SIGKILL of a starter at a step boundary) per schedule
    int max_schedules = 50;     // per scenario variant; beyond it the exploration is incomplete (reported)
    std::uint64_t seed = 1;     // random and PCT
    int trials = 200;           // random, stress and PCT: trials per variant
    int depth = 3;              // PCT: the bug depth d it gives a probability bound for
    int pct_runs = 50;          // exhaustive: PCT runs per variant after the cap is hit without UNSAFE (0: none)
    // A real server (template "server") has no gates to explore: its cells run
    // this many free-running trials per variant, each with its own seeded
    // start order and timing, every one of them (the rates are the result).
    int server_trials = 10;
    double budget_ms = 0;       // time per scenario (a cell's row); 0: none. Spent: the search stops, partial
    // Exhaustive: explore one order of steps that commute (sleep sets, Godefroid 1996; the
    // footprints come from the contenders' gates), skip a crash right after the crashed
    // contender's own read (the same as crashing it before), and replay no schedule twice
    // across the deepening passes. false: every interleaving (the reference the reduction is checked against).
    bool reduce = true;
};

// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010): the
// contenders get distinct random priorities d..d+n-1, the highest enabled one
// moves, and at d-1 random steps the one that moves drops to priority 1..d-1.
// A given bug of depth d is found by one run with probability at least
// 1/(n k^(d-1)), k the steps of a run; each crash it needs (a SIGKILL at a
// random step, of the contender moving then) costs another 1/(n k).
struct PctPlan {
    std::vector<int> priority;       // by starter index (B = 0)
    std::vector<int> change_points;  // step numbers (1-based): at the j-th, the mover's priority drops to j + 1
    std::vector<int> fault_points;   // step numbers where the mover is killed instead
};
PctPlan make_pct_plan(std::uint64_t seed, int contenders, int steps, int depth, int faults);
// The bound above, for `runs` runs; in [0, 1].
double pct_probability(int contenders, int steps, int depth, int faults, int runs);

// A schedule is the list of decisions: "B" = let B take its next step, "!B" = SIGKILL B.
using Schedule = std::vector<std::string>;

struct Counterexample {
    StrategySpec strategy;
    std::string scenario, variant;
    Schedule schedule;
    std::string mode;
    std::uint64_t seed = 0;
    Verdict verdict = Verdict::UNSAFE;
    Violation violation;
    nlohmann::json transcript;
    int shrunk_from = 0;  // length of the schedule before shrinking
    std::string network_mount;  // found on this network mount of an NFS lab (replay it there); empty: a local target
    nlohmann::json to_json() const;
    static Counterexample from_json(const nlohmann::json& j);
};

// What a counterexample file says is data, never an order. Before a replay:
// the strategy it names must be defined here (strategy and server files) as
// the file recorded it, and its scenario and variant must be ones this kit
// has. The replay then runs this machine's definition (cx.strategy is
// replaced by it), never the file's: a file cannot make the kit run a
// command, a server program or a lock file of its choosing, nor a variant
// of a thousand starters. Throws std::runtime_error naming what does not
// match and the fix.
void resolve_for_replay(Counterexample& cx, const std::vector<StrategySpec>& defined);

// Whether two counterexamples are of the same finding: one kind of violation in one variant.
inline bool same_finding(const Counterexample& a, const Counterexample& b) {
    return a.violation.kind == b.violation.kind && a.variant == b.variant;
}

struct CellResult {
    std::string strategy, scenario;
    Verdict verdict = Verdict::SAFE;
    int schedules = 0;        // schedules run
    int faults = 0;           // crash faults injected over them
    bool complete = true;     // exhaustive search finished within max_schedules (and the time budget)
    int pruned = 0;           // exhaustive: runs the reduction cut short or skipped (covered by an equivalent schedule)
    std::string coverage;     // how far the search went, for people: what a SAFE means
    std::string reason;       // UNSUPPORTED/ERROR: why; UNSAFE/STUCK: the explanation
    std::optional<Counterexample> counterexample;  // of the worst verdict
    std::string counterexample_file;
    // Every kind of violation found (exclusion, collateral, liveness), the
    // first of each (of each variant, where every variant is judged), shrunk
    // on its own; one of them is `counterexample`.
    struct Finding {
        Counterexample counterexample;
        std::string file;
    };
    std::vector<Finding> findings;
    double elapsed_ms = 0;
    double found_ms = -1;     // when the counterexample was first found (before shrinking), from the cell's start
    // A network scenario's verdict per variant (each is judged; see explore), in
    // the scenario's order; empty for the others, whose search stops at the cell's first UNSAFE.
    struct VariantResult {
        std::string variant;
        Verdict verdict = Verdict::SAFE;
        int schedules = 0;
        bool never_told = false;   // of its exclusion, if it has one
        double exposure_ms = -1;
        std::vector<std::pair<std::string, int>> outcomes;  // free-running trials of a real server: how many ended each way
    };
    std::vector<VariantResult> variants;
};

// One schedule: the trial follows `prefix`, then the default policy (or the
// random generator when given). Returns the decisions made and what the oracle said.
struct ScheduleOutcome {
    Schedule schedule;
    std::optional<Violation> violation;
    nlohmann::json transcript;
    int faults = 0;
    bool diverged = false;  // the prefix asked for a move that was not possible
    bool blocked = false;   // stopped where `stop_at` said every way on is covered elsewhere (no liveness check)
    double shared_ms = 0;   // run in a batch (run_batch): its share of the batch's time
    std::string outcome;    // free-running: how the trial ended ("exactly one running", ...)
    struct Point {
        std::vector<std::string> options;
        size_t chosen = 0;
        int preemptions_before = 0, faults_before = 0;
        std::string last;            // contender that moved last
        std::vector<std::string> enabled;
        Access effect;               // what the chosen decision touched: a crash, or a step that ended its contender, is global
        bool executed = true;        // false: the point where the run was blocked
    };
    std::vector<Point> points;
};

// Asked at each point past the prefix before the default policy moves: true
// stops the run there (the partial-order reduction's sleep set holds the move).
using StopAt = std::function<bool(const ScheduleOutcome& so_far, const ScheduleOutcome::Point& here)>;

ScheduleOutcome run_schedule(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario,
                             const std::string& variant, const Schedule& prefix, int max_faults, std::uint64_t* rng_state,
                             int trial_index, const PctPlan* pct = nullptr, const StopAt* stop_at = nullptr);

// Stress: starters run free (no gates), really concurrently; the oracle judges the end state.
// With rng, the starters start in an order and with gaps (0-20 ms) it draws.
ScheduleOutcome run_free(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario,
                         const std::string& variant, int trial_index, std::uint64_t* rng = nullptr);

// The outcome of each variant's default schedule, run beforehand (run_batch): by variant.
using VariantOutcomes = std::map<std::string, ScheduleOutcome>;

// batched: outcomes explore takes instead of running those schedules again.
CellResult explore(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario, const ScheduleOptions& options,
                   const VariantOutcomes* batched = nullptr);

// A network scenario with a lab event whose every variant has one starter and
// no crash to place (one schedule per variant): its trials can share events.
bool batchable(const Scenario& s);
// Every strategy's trial of each variant around one staging of the lab's
// event and settling (Scenario::event): per strategy, in order, the outcome
// of each variant's one schedule, as run_schedule would give it alone.
// Needs env.lab. progress: told of each variant before it starts (may be null).
std::vector<VariantOutcomes> run_batch(const TrialEnv& env, const std::vector<const StrategySpec*>& strategies, const Scenario& scenario,
                                       const std::function<void(const std::string&)>& progress);

// Fewer decisions and faults, same verdict (Samba locktest style).
Counterexample shrink(const TrialEnv& env, const Counterexample& cx, const Scenario& scenario);

// Run a counterexample again; the verdict it reaches (SAFE if the violation did not recur).
Verdict replay(const TrialEnv& env, const Counterexample& cx, std::optional<Violation>* violation = nullptr);

Verdict verdict_of(const Violation& v);

}  // namespace ilk
