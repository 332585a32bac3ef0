// The result model of `ilk run` and `ilk merge`: the compatibility matrix.
// Every matrix writer (terminal, JSON, Markdown, JUnit XML, HTML) reads this
// and nothing else; `ilk merge` reads reports back into it. Its JSON layout is
// documented in reports/matrix-report.md (schema version kMatrixSchemaVersion).
//
//   MatrixReport
//     strategies[]   name, summary, source
//     scenarios[]    name, summary
//     targets[]      one column: a target on one platform (host + kernel)
//       probe        the probe facts measured there, and the profile comparison
//       cells[]      one per strategy: the matrix cell
//         scenarios[]  one per scenario: verdict, evidence, counterexample
//     not_run[]      platform profiles the kit cannot run here (claims only)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe_report.h"
#include "verdict.h"

namespace ilk {

// Bump when a field changes meaning or disappears; adding fields keeps it.
inline constexpr int kMatrixSchemaVersion = 1;


// One kind of violation a scenario's search found, with its own counterexample.
struct FoundViolation {
    std::string kind;              // "exclusion", "collateral", "liveness"
    Verdict verdict = Verdict::UNSAFE;
    std::string variant;
    std::vector<std::string> schedule;
    std::string explanation;
    std::string counterexample;    // file, as ScenarioResult::counterexample
    // As ScenarioResult's: two servers at once on a network mount.
    double exposure_ms = -1;
    std::string holder_saw;
    bool never_told = false;
};

// A network scenario's (or a real server's) verdict in one of its variants:
// each variant is judged (the search of one stops at its own first UNSAFE; a
// real server's runs all its trials).
struct VariantVerdict {
    std::string variant;
    Verdict verdict = Verdict::SAFE;
    int schedules = 0;
    bool never_told = false;
    double exposure_ms = -1;
    // A real server's free-running trials: how many ended each way ("exactly
    // one running": 10), in the order first seen; their sum is `schedules`.
    std::vector<std::pair<std::string, int>> outcomes;
};

// One strategy x target x scenario.
struct ScenarioResult {
    std::string scenario;
    Verdict verdict = Verdict::SAFE;
    int schedules = 0;             // schedules run (SAFE: the evidence)
    int faults = 0;                // crash faults injected over them
    bool complete = true;          // exhaustive search finished within the cap (false: a SAFE is partial)
    std::string coverage;          // how far the search went ("complete: every schedule with up to 2 preemptions ...")
    bool matters = true;           // UNSUPPORTED only: false when the reason does not matter for this cell
    std::string reason;            // UNSUPPORTED/ERROR: why (and the fix); UNSAFE/STUCK: the explanation
    std::string variant;           // the scenario variant of the counterexample, if any
    std::vector<std::string> schedule;  // the counterexample's schedule ("B", "!B" = SIGKILL B)
    std::string counterexample;    // path of the counterexample file, relative to the report directory when inside it
    nlohmann::json transcript;     // what each contender saw in the counterexample (null when none)
    double elapsed_ms = 0;
    double found_ms = -1;          // when the counterexample was first found, from the scenario's start (-1: none)
    std::vector<FoundViolation> findings; // every kind of violation found, the worst (above) among them
    // Two servers at once on a network mount, where the scenario asked the
    // first holder what it saw: how long both ran before the kit ended the
    // trial (-1: not measured), what it saw, and whether it was never told (no
    // error on its I/O, nothing in its client's kernel log): a finding of its own.
    double exposure_ms = -1;
    std::string holder_saw;
    bool never_told = false;
    std::vector<VariantVerdict> variants;  // network scenarios: each variant's verdict, in the scenario's order
};

// One strategy x target: the matrix cell. Its verdict is the worst over its
// scenarios (fold_cell), with the scenario that decided it.
struct StrategyCell {
    std::string strategy;
    Verdict verdict = Verdict::SAFE;
    std::string deciding_scenario;  // empty when SAFE over all scenarios
    std::string reason;             // one line for people
    std::vector<ScenarioResult> scenarios;
};

// Fold scenario results into the cell verdict: the failure of highest
// severity (verdict.h: UNSAFE > STUCK > ERROR) decides;
// SAFE only when every scenario is SAFE or UNSUPPORTED for a reason that does
// not matter; a cell with a scenario that could not run for a reason that
// matters (not root, a primitive missing) is UNSUPPORTED, deciding = that scenario.
void fold_cell(StrategyCell& cell);

// How many of a cell's scenarios fail (UNSAFE, STUCK, ERROR) out of those
// judged (every one but UNSUPPORTED): "UNS 1/14" in every matrix.
struct FailureCount {
    int failed = 0, judged = 0;
};
FailureCount failure_count(const StrategyCell& cell);
// "UNS 1/14", "ok 14/14" ... as the matrices show a cell (glyph: "ok", "UNS", ...).
std::string count_label(std::string_view glyph, const StrategyCell& cell);

// A SAFE cell whose search did not finish somewhere (cap, budget, sampling):
// "not found", not "cannot happen". Marked on every matrix.
bool safe_is_partial(const StrategyCell& cell);

// The kinds of violation a result found besides the one it shows (its own
// schedule, verdict and variant): what reports list as "also found".
std::vector<const FoundViolation*> other_findings(const ScenarioResult& s);


// One column of the matrix: a target on one platform.
struct TargetResult {
    std::string name;        // "tmpfs", "ext4", ... or the directory the user named
    std::string kind;        // "kit" (set up by the kit) or "directory" (named by the user)
    std::string platform;    // "linux 6.1.0-28-amd64": os and kernel of the host it ran on
    std::string host;        // hostname it ran on
    std::string source;      // report file it came from (ilk merge); empty for a local run
    nlohmann::json info = nlohmann::json::object();  // path, fstype, mount_options, super_options, mount_source, requested, ...
    std::string unsupported; // non-empty: the target could not be set up here: why, and the fix (package to install)
    bool segments_only = false;  // hugetlbfs: holds segments, not a data directory
    double elapsed_ms = 0;   // time spent on this target (set-up, probe, cells)
    // The probe on this target (facts, primitives, comparisons with the
    // profile), written as the `ilk probe` JSON; nullopt when no probe ran.
    std::optional<ProbeReport> probe;
    std::vector<StrategyCell> cells;
};

struct StrategyInfo {
    std::string name, summary, source;
    // A real server (servers/*.toml): the kit's strategy modelled on it, and
    // the notes on where the two are known to disagree ("SCENARIO: why").
    std::string model;
    std::vector<std::string> differences;
};

struct ScenarioInfo {
    std::string name, summary;
};

// A platform profile for a platform the kit does not run on here: its claims
// are listed, never guessed into results.
struct NotRunPlatform {
    std::string name, os, summary, file;
    int claims = 0;
    std::vector<std::string> targets;  // the targets its default run would cover
};

struct MatrixReport {
    nlohmann::json host = nlohmann::json::object();  // hostinfo.h; for a merge: of the host that merged
    std::string profile;                 // platform profile compared against
    std::string schedule;                // "exhaustive (preemption bound 2, ...)"
    std::vector<StrategyInfo> strategies;
    std::vector<ScenarioInfo> scenarios;
    std::vector<TargetResult> targets;
    std::vector<NotRunPlatform> not_run;
    std::vector<std::string> merged_from;  // ilk merge: the input reports, in order
    double elapsed_ms = 0;
    bool interrupted = false;
};

nlohmann::json to_json(const MatrixReport& r);
nlohmann::json to_json(const TargetResult& t);
// Throws std::runtime_error naming the first thing wrong ("targets[2].cells[0]: no key 'verdict'").
MatrixReport matrix_from_json(const nlohmann::json& j);
MatrixReport matrix_from_json(nlohmann::json&& j);  // the same, taking the document apart instead of copying it
TargetResult target_from_json(const nlohmann::json& j, const std::string& where = "target");

// Columns for display: targets grouped by (platform, name), in first-seen
// order. A column with more than one result for the same platform is shown
// as such (ilk merge), conflicts included.
struct Column {
    std::string platform, target;
    std::vector<const TargetResult*> results;
};
std::vector<Column> columns(const MatrixReport& r);

// The cell of `strategy` in each result of a column (nullptr where absent).
std::vector<const StrategyCell*> cells_of(const Column& c, const std::string& strategy);

// True when the results of a column disagree on the verdict of `strategy`.
bool conflicting(const Column& c, const std::string& strategy);

// The strategies in the report, in order: those listed in `strategies`,
// then any a target has a cell for (merged reports).
std::vector<std::string> strategy_names(const MatrixReport& r);
// The scenarios, in order: those listed in `scenarios`, then any a cell names.
std::vector<std::string> scenario_names(const MatrixReport& r);

// Per strategy, over the targets it was run on (a cell not UNSUPPORTED as a
// whole): the scenarios it fails on every one of them, and those it fails on
// some only.
struct StrategyFailures {
    std::string strategy;
    std::vector<std::string> targets;               // where it was run
    std::vector<std::string> everywhere, somewhere;  // scenarios, in the report's order
};
std::vector<StrategyFailures> strategy_failures(const MatrixReport& r);

// Per target: the strategies SAFE there or, when none is, those with the
// fewest failing scenarios and what they fail: the line an operator reads first.
struct TargetSummary {
    std::string target;    // as the text matrix labels it
    std::vector<std::string> safe;
    int fewest = 0;        // when safe is empty: the least number of failing scenarios
    std::vector<std::pair<std::string, std::vector<std::string>>> best;  // strategy, the scenarios it fails
};
std::vector<TargetSummary> target_summaries(const MatrixReport& r);
// "tmpfs: SAFE: lifetime-flock-dir" / "ext4: none SAFE; fewest failing scenarios (1): lifetime-flock (lockfile-unlinked)"
std::string summary_line(const TargetSummary& s);

// Two servers ran at once and the first was never told (FoundViolation::never_told):
// one per strategy x scenario x variant, with the targets it happened on, the
// first result's words and the longest exposure the kit saw.
struct NeverTold {
    std::string strategy, scenario, variant;
    std::vector<std::string> targets;
    std::string holder_saw;
    double exposure_ms = -1;
};
std::vector<NeverTold> never_told_findings(const MatrixReport& r);
// A real server and its model disagree on a scenario of one target: both
// results, and the server file's note on why (empty: not explained yet).
struct Disagreement {
    std::string server, model, target, scenario;
    const ScenarioResult* server_result = nullptr;
    const ScenarioResult* model_result = nullptr;
    std::string note;
};
// Every scenario where a real server's verdict differs from its model's, on a
// target where both were judged (neither UNSUPPORTED nor ERROR).
std::vector<Disagreement> disagreements(const MatrixReport& r);
// What a result says for itself in one line: its reason, else its coverage.
std::string result_words(const ScenarioResult& s);

// "at least 12.1 s" (the kit ended the trial; nothing would have)
std::string exposure_text(double exposure_ms);
// "notify SAFE, no-notify UNSAFE (never told)"; empty for fewer than two variants.
std::string variants_text(const ScenarioResult& s);

}  // namespace ilk
