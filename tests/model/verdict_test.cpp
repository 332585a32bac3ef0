// The verdict table: every verdict has exactly one row, and the decisions
// taken from it are the ones the kit has always made (DESIGN.md: UNSAFE and
// STUCK are findings with a counterexample, ERROR is the kit's own failure).
#include <algorithm>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "verdict.h"

namespace ilk {
namespace {

constexpr Verdict kEvery[] = {Verdict::SAFE, Verdict::UNSAFE, Verdict::STUCK, Verdict::UNSUPPORTED, Verdict::ERROR};

TEST(VerdictTable, EveryVerdictHasExactlyOneRow) {
    EXPECT_EQ(std::size(kVerdictTable), std::size(kEvery));
    for (const Verdict v : kEvery) {
        int rows = 0;
        for (const VerdictRow& row : kVerdictTable) rows += row.verdict == v;
        EXPECT_EQ(rows, 1) << to_string(v);
        EXPECT_EQ(&verdict_row(v) - kVerdictTable, std::find(kEvery, std::end(kEvery), v) - kEvery) << "rows follow the enum";
        EXPECT_FALSE(verdict_meaning(v).empty()) << to_string(v);
    }
}

TEST(VerdictTable, NamesRoundTripAndUnknownNamesAreRefused) {
    std::set<std::string_view> names;
    for (const Verdict v : kEvery) {
        EXPECT_EQ(verdict_from_string(to_string(v)), v);
        names.insert(to_string(v));
    }
    EXPECT_EQ(names.size(), std::size(kEvery));
    EXPECT_EQ(to_string(Verdict::UNSUPPORTED), "UNSUPPORTED");
    try {
        verdict_from_string("MAYBE");
        FAIL() << "accepted MAYBE";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "unknown verdict 'MAYBE' (known: SAFE, UNSAFE, STUCK, UNSUPPORTED, ERROR)");
    }
}

TEST(VerdictTable, FailuresAreExactlyUnsafeStuckAndError) {
    std::set<Verdict> failures, counterexamples;
    for (const Verdict v : kEvery) {
        if (is_failure(v)) failures.insert(v);
        if (has_counterexample(v)) counterexamples.insert(v);
    }
    EXPECT_EQ(failures, (std::set<Verdict>{Verdict::UNSAFE, Verdict::STUCK, Verdict::ERROR}));
    EXPECT_EQ(counterexamples, (std::set<Verdict>{Verdict::UNSAFE, Verdict::STUCK})) << "only findings carry a counterexample";
    for (const Verdict v : counterexamples) EXPECT_TRUE(is_failure(v)) << to_string(v);
}

TEST(VerdictTable, SeverityOrdersTheCellFold) {
    EXPECT_GT(severity(Verdict::UNSAFE), severity(Verdict::STUCK));
    EXPECT_GT(severity(Verdict::STUCK), severity(Verdict::ERROR));
    EXPECT_GT(severity(Verdict::ERROR), severity(Verdict::SAFE));
    EXPECT_GT(severity(Verdict::SAFE), severity(Verdict::UNSUPPORTED));
    // Every failure is more severe than every verdict that is not one.
    for (const Verdict f : kEvery)
        for (const Verdict g : kEvery)
            if (is_failure(f) && !is_failure(g)) {
                EXPECT_GT(severity(f), severity(g)) << to_string(f) << " vs " << to_string(g);
            }
}

}  // namespace
}  // namespace ilk
