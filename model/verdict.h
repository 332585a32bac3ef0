// Verdicts: the closed set of outcomes of a strategy x target x scenario, and
// the one table that says what each means (lit's result codes: each knows
// whether it is a failure). The engine, every report writer, `ilk advise` and
// the exit codes of `ilk run` decide by verdict only through this table.
#pragma once

#include <string_view>

namespace ilk {

enum class Verdict { SAFE, UNSAFE, STUCK, UNSUPPORTED, ERROR };

// One row per verdict.
struct VerdictRow {
    Verdict verdict;
    std::string_view name;   // as written in reports and counterexample files
    int severity;            // a cell folds to its most severe scenario: UNSAFE > STUCK > ERROR > SAFE > UNSUPPORTED
    bool failure;            // fails `ilk run --check`, is a JUnit <failure>/<error>, counts against a strategy in `ilk advise`
    bool counterexample;     // a finding about the platform with a replayable counterexample (JUnit <failure>);
                             // a failure without one is the kit's own (JUnit <error>)
    std::string_view meaning;  // one line for legends
};

// In the order of the enum; tests/model/verdict_test.cpp checks every verdict has exactly one row.
inline constexpr VerdictRow kVerdictTable[] = {
    {.verdict = Verdict::SAFE, .name = "SAFE", .severity = 1, .failure = false, .counterexample = false,
     .meaning = "no schedule broke it (the schedules and faults run are its evidence)"},
    {.verdict = Verdict::UNSAFE, .name = "UNSAFE", .severity = 4, .failure = true, .counterexample = true,
     .meaning = "exclusion or collateral broken: two live holders, or something planted signalled or removed"},
    {.verdict = Verdict::STUCK, .name = "STUCK", .severity = 3, .failure = true, .counterexample = true,
     .meaning = "refused to start when nothing else was alive"},
    {.verdict = Verdict::UNSUPPORTED, .name = "UNSUPPORTED", .severity = 0, .failure = false, .counterexample = false,
     .meaning = "could not run here, with the reason"},
    {.verdict = Verdict::ERROR, .name = "ERROR", .severity = 2, .failure = true, .counterexample = false,
     .meaning = "the kit failed (not a finding about the platform)"},
};

const VerdictRow& verdict_row(Verdict v);
std::string_view to_string(Verdict v);
int severity(Verdict v);
bool is_failure(Verdict v);
bool has_counterexample(Verdict v);
std::string_view verdict_meaning(Verdict v);
// Verdict from its name ("SAFE", ...); throws std::runtime_error on anything else.
Verdict verdict_from_string(std::string_view name);

}  // namespace ilk
