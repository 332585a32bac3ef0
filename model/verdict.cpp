#include "verdict.h"

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace ilk {

const VerdictRow& verdict_row(Verdict v) {
    for (const VerdictRow& row : kVerdictTable)
        if (row.verdict == v) return row;
    // Only a value cast from outside the enum gets here: shown as "?", and never passed as good.
    static constexpr VerdictRow unknown{.verdict = Verdict::ERROR, .name = "?", .severity = 0, .failure = true, .counterexample = false,
                                        .meaning = "not a verdict"};
    return unknown;
}

std::string_view to_string(Verdict v) { return verdict_row(v).name; }
int severity(Verdict v) { return verdict_row(v).severity; }
bool is_failure(Verdict v) { return verdict_row(v).failure; }
bool has_counterexample(Verdict v) { return verdict_row(v).counterexample; }
std::string_view verdict_meaning(Verdict v) { return verdict_row(v).meaning; }

Verdict verdict_from_string(std::string_view name) {
    std::string known;
    for (const VerdictRow& row : kVerdictTable) {
        if (row.name == name) return row.verdict;
        known += (known.empty() ? "" : ", ") + std::string(row.name);
    }
    throw std::runtime_error(fmt::format("unknown verdict '{}' (known: {})", name, known));
}

}  // namespace ilk
