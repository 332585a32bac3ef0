// Schedules, verdicts and counterexamples: run a strategy through a scenario
// under many interleavings of its contenders' steps (stateless replay: every
// schedule is a fresh trial), and judge each with the oracle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/scenario.h"
#include "engine/trial.h"
#include "verdict.h"

namespace ilk {

struct ScheduleOptions {
    enum class Mode { exhaustive, random, stress } mode = Mode::exhaustive;
    int preemption_bound = 2;   // exhaustive: context switches away from a contender that could go on
    int max_faults = 1;         // crashes (SIGKILL of a starter at a step boundary) per schedule
    int max_schedules = 50;     // per scenario variant; beyond it the exploration is incomplete (reported)
    std::uint64_t seed = 1;     // random
    int trials = 200;           // random and stress: trials per variant
};

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
    nlohmann::json to_json() const;
    static Counterexample from_json(const nlohmann::json& j);
};

struct CellResult {
    std::string strategy, scenario;
    Verdict verdict = Verdict::SAFE;
    int schedules = 0;        // schedules run
    int faults = 0;           // crash faults injected over them
    bool complete = true;     // exhaustive search finished within max_schedules
    std::string reason;       // UNSUPPORTED/ERROR: why; UNSAFE/STUCK: the explanation
    std::optional<Counterexample> counterexample;
    std::string counterexample_file;
    double elapsed_ms = 0;
    double found_ms = -1;     // when the counterexample was first found (before shrinking), from the cell's start
};

// One schedule: the trial follows `prefix`, then the default policy (or the
// random generator when given). Returns the decisions made and what the oracle said.
struct ScheduleOutcome {
    Schedule schedule;
    std::optional<Violation> violation;
    nlohmann::json transcript;
    int faults = 0;
    bool diverged = false;  // the prefix asked for a move that was not possible
    struct Point {
        std::vector<std::string> options;
        size_t chosen = 0;
        int preemptions_before = 0, faults_before = 0;
        std::string last;            // contender that moved last
        std::vector<std::string> enabled;
    };
    std::vector<Point> points;
};

ScheduleOutcome run_schedule(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario,
                             const std::string& variant, const Schedule& prefix, int max_faults, std::uint64_t* rng_state,
                             int trial_index);

// Stress: starters run free (no gates), really concurrently; the oracle judges the end state.
ScheduleOutcome run_free(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario,
                         const std::string& variant, int trial_index);

CellResult explore(const TrialEnv& env, const StrategySpec& strategy, const Scenario& scenario, const ScheduleOptions& options);

// Fewer decisions and faults, same verdict (Samba locktest style).
Counterexample shrink(const TrialEnv& env, const Counterexample& cx, const Scenario& scenario);

// Run a counterexample again; the verdict it reaches (SAFE if the violation did not recur).
Verdict replay(const TrialEnv& env, const Counterexample& cx, std::optional<Violation>* violation = nullptr);

Verdict verdict_of(const Violation& v);

}  // namespace ilk
