// The matrix result model: the cell rule and the JSON round trip.
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "matrix.h"
#include "matrix_sample.h"
#include "writers.h"

namespace ilk {
namespace {

ScenarioResult result(const std::string& name, Verdict v, bool matters = true) {
    ScenarioResult s;
    s.scenario = name;
    s.verdict = v;
    s.matters = matters;
    s.reason = name + " reason";
    return s;
}

TEST(MatrixCell, WorstVerdictDecides) {
    StrategyCell c{"s", Verdict::SAFE, "", "", {result("a", Verdict::SAFE), result("b", Verdict::STUCK), result("c", Verdict::UNSAFE),
                                              result("d", Verdict::ERROR)}};
    fold_cell(c);
    EXPECT_EQ(c.verdict, Verdict::UNSAFE);
    EXPECT_EQ(c.deciding_scenario, "c");
    EXPECT_EQ(c.reason, "c reason");
}

TEST(MatrixCell, SafeOnlyWhenNothingThatMattersIsMissing) {
    StrategyCell c{"s", Verdict::SAFE, "", "", {result("a", Verdict::SAFE), result("b", Verdict::UNSUPPORTED, false)}};
    fold_cell(c);
    EXPECT_EQ(c.verdict, Verdict::SAFE);
    EXPECT_EQ(c.deciding_scenario, "");
    c.scenarios.push_back(result("c", Verdict::UNSUPPORTED, true));
    fold_cell(c);
    EXPECT_EQ(c.verdict, Verdict::UNSUPPORTED);
    EXPECT_EQ(c.deciding_scenario, "c");
    EXPECT_NE(c.reason.find("SAFE under 1 scenario(s)"), std::string::npos) << c.reason;
}

TEST(MatrixCell, NothingShownSafeIsNotSafe) {
    StrategyCell c{"s", Verdict::SAFE, "", "", {}};
    fold_cell(c);
    EXPECT_EQ(c.verdict, Verdict::UNSUPPORTED);
    c.scenarios = {result("a", Verdict::UNSUPPORTED, false), result("b", Verdict::UNSUPPORTED, false)};
    fold_cell(c);
    EXPECT_EQ(c.verdict, Verdict::UNSUPPORTED);
    EXPECT_EQ(c.reason, "a reason");
}

// A SAFE whose search stopped at a cap or budget, or sampled, is "not found",
// not "cannot happen": the cell says so on every matrix.
TEST(MatrixCell, PartialSafeIsMarked) {
    StrategyCell c{"s", Verdict::SAFE, "", "", {result("a", Verdict::SAFE), result("b", Verdict::SAFE)}};
    fold_cell(c);
    EXPECT_FALSE(safe_is_partial(c));
    c.scenarios[1].complete = false;
    c.scenarios[1].coverage = "partial: the cap of 50 schedules was hit (variant 2)";
    fold_cell(c);
    EXPECT_TRUE(safe_is_partial(c));
    c.scenarios[0].verdict = Verdict::UNSAFE;
    fold_cell(c);
    EXPECT_FALSE(safe_is_partial(c)) << "only a SAFE cell can be partial";

    MatrixReport r = testing::sample_matrix(false);
    for (TargetResult& t : r.targets)
        for (StrategyCell& cell : t.cells)
            if (cell.verdict == Verdict::SAFE) {
                for (ScenarioResult& s : cell.scenarios) s.complete = false;
                break;
            }
    const std::string text = matrix_text(r, {false, 100, ""});
    EXPECT_NE(text.find("ok*"), std::string::npos) << text;
    EXPECT_NE(text.find("ok*: SAFE as far as the search went"), std::string::npos) << text;
    const std::string md = matrix_markdown(r, {false, 100, ""});
    EXPECT_NE(md.find("SAFE\\*"), std::string::npos) << md;
}

TEST(MatrixJson, RoundTripKeepsEverything) {
    const MatrixReport r = testing::sample_matrix(true);
    const nlohmann::json j = to_json(r);
    const MatrixReport back = matrix_from_json(j);
    EXPECT_EQ(to_json(back), j);
}

TEST(MatrixJson, ErrorsNameTheField) {
    nlohmann::json j = to_json(testing::sample_matrix());
    j["targets"][1]["cells"][0].erase("verdict");
    try {
        matrix_from_json(j);
        FAIL() << "accepted a cell without a verdict";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "report.targets[1].cells[0]: no key 'verdict'");
    }
    j = to_json(testing::sample_matrix());
    j["schema_version"] = 99;
    EXPECT_THROW(matrix_from_json(j), std::runtime_error);
    EXPECT_THROW(matrix_from_json(nlohmann::json{{"kind", "ilk-probe"}}), std::runtime_error);
}

TEST(MatrixColumns, MergedConflictsAreShown) {
    const MatrixReport r = testing::sample_matrix(true);
    const std::vector<Column> cols = columns(r);
    ASSERT_EQ(cols.size(), 5u);  // tmpfs, ext4, xfs, hugetlbfs on 6.1, tmpfs on 6.12
    EXPECT_EQ(cols[0].results.size(), 2u);
    EXPECT_TRUE(conflicting(cols[0], "tom-2004"));
    EXPECT_FALSE(conflicting(cols[0], "lifetime-flock"));
    EXPECT_FALSE(conflicting(cols[4], "tom-2004"));
}

TEST(MatrixText, FitsOneHundredColumnsAndCountsTheFailingScenarios) {
    const MatrixReport r = testing::sample_matrix(true);
    const std::string text = matrix_text(r, {false, 100, ""});
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        // Count code points, not bytes (the title has an em dash).
        size_t width = 0;
        for (size_t i = start; i < end; ++i) width += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
        EXPECT_LE(width, 100u) << text.substr(start, end - start);
        start = end + 1;
    }
    EXPECT_NE(text.find("UNS 1/3"), std::string::npos) << text;  // one of its three scenarios fails
    EXPECT_NE(text.find("CONFLICT"), std::string::npos) << text;
    EXPECT_NE(text.find("not set up: mkfs.xfs is not installed"), std::string::npos) << text;
    EXPECT_NE(text.find("freebsd"), std::string::npos) << text;
}

// A porter looks at the terminal first: the probe's deviations from the
// profile are there, per target, with what was expected, seen, and who said so.
TEST(MatrixText, ListsDeviationsFromTheProfilePerTarget) {
    const std::string text = matrix_text(testing::sample_matrix(false), {false, 100, ""});
    const std::string heading = "\ndeviations from the linux profile:\n";
    const size_t section = text.find(heading);
    ASSERT_NE(section, std::string::npos) << text;
    const std::string expected =
        "  tmpfs\n"
        "    locks.flock.excludes_other_process: expected true, observed false\n"
        "      source: Linux flock(2) (platforms/linux.toml:40:1)\n"
        "    locks.slow-release.handover_ms: expected at most 100, observed 1503.96\n"
        "      source: Linux fs/locks.c (platforms/linux.toml:53:1)\n"
        "  ext4\n";
    EXPECT_EQ(text.substr(section + heading.size(), expected.size()), expected) << text;
    // A target that conforms is named once; xfs, never probed, is not; known deviations are counted, not listed.
    EXPECT_NE(text.find("  none on hugetlbfs\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("xfs\n    locks"), std::string::npos) << text;
    EXPECT_EQ(text.find("conflicts_with.fcntl"), std::string::npos) << text;
    EXPECT_NE(text.find("  2 known deviation(s) not listed: the profile expects them\n"), std::string::npos) << text;
    // Below the findings, above the platforms not run.
    EXPECT_LT(text.find("findings:"), section);
    EXPECT_LT(section, text.find("not run here"));
}

TEST(MatrixText, DeviationsNameTheirSourceReportWhenAMergeHasTwo) {
    const std::string text = matrix_text(testing::sample_matrix(true), {false, 100, ""});
    EXPECT_NE(text.find("\n  linux 6.1.0-28-amd64:tmpfs (from host-a.json)\n    locks.flock.excludes_other_process"), std::string::npos)
        << text;
    EXPECT_NE(text.find("\n  linux 6.1.0-28-amd64:tmpfs (from host-b.json)\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\n  linux 6.12.9-amd64:tmpfs\n"), std::string::npos) << "the only result there: no source needed\n" << text;
}

TEST(MatrixText, NoDeviationsSaysNone) {
    MatrixReport r = testing::sample_matrix(false);
    for (TargetResult& t : r.targets)
        if (t.probe)
            for (Comparison& c : t.probe->comparisons) c.outcome = Outcome::match;
    const std::string text = matrix_text(r, {false, 100, ""});
    EXPECT_NE(text.find("\ndeviations from the linux profile:\n  none on tmpfs, ext4, hugetlbfs\n"), std::string::npos) << text;
    // Without a profile to compare with, there is no section at all.
    for (TargetResult& t : r.targets) t.probe.reset();
    EXPECT_EQ(matrix_text(r, {false, 100, ""}).find("deviations from"), std::string::npos);
}

TEST(MatrixText, StaleKnownDeviationIsListed) {
    MatrixReport r = testing::sample_matrix(false);
    for (Comparison& c : r.targets[0].probe->comparisons)
        if (c.outcome == Outcome::known_deviation) {
            c.outcome = Outcome::unexpectedly_conforms;
            c.observed = false;
        }
    const std::string text = matrix_text(r, {false, 100, ""});
    EXPECT_NE(text.find("    locks.flock.conflicts_with.fcntl: observed false as documented, yet the profile lists a known\n"
                        "    deviation (NFS emulates flock with fcntl): the profile is stale\n"),
              std::string::npos)
        << text;
}

// Comparisons as a damaged or foreign report (ilk merge) may hold them.
nlohmann::json odd_comparisons() {
    return nlohmann::json::array({7,
                                  {{"outcome", 3}},
                                  {{"outcome", "deviation"}},
                                  {{"outcome", "deviation"}, {"fact", 5}, {"expected", {{"at_most", "x"}}}, {"observed", {{"a", 1}}}}});
}

TEST(MatrixText, DeviationsFitTheWidthAndSurviveOddProbes) {
    MatrixReport sample = testing::sample_matrix(true);
    sample.targets[0].probe->comparisons[0].expectation.source = std::string(120, 'x') + " " + std::string(30, 'y');
    // The odd probes come as another host's report would bring them: through the JSON reader.
    nlohmann::json j = to_json(sample);
    j["targets"][1]["probe"] = {{"profile", {{"comparisons", odd_comparisons()}}}};
    j["targets"][3]["probe"] = "not an object";
    const MatrixReport r = matrix_from_json(j);
    ASSERT_TRUE(r.targets[1].probe);
    EXPECT_EQ(r.targets[1].probe->comparisons.size(), 2u) << "the comparisons with a known outcome";
    EXPECT_FALSE(r.targets[3].probe);
    for (const int width : {100, 60}) {
        const std::string text = matrix_text(r, {false, width, ""});
        const size_t from = text.find("\ndeviations from");
        ASSERT_NE(from, std::string::npos) << text;
        std::istringstream section(text.substr(from + 1, text.find("\n\n", from + 1) - from - 1));
        for (std::string line; std::getline(section, line);) {
            if (line.find(std::string(120, 'x')) != std::string::npos) continue;  // a word longer than a line stands alone
            EXPECT_LE(line.size(), static_cast<size_t>(width)) << line;
        }
        EXPECT_NE(text.find("\n      " + std::string(30, 'y')), std::string::npos) << text;
        EXPECT_NE(text.find("deviations from the (unnamed) profile:"), std::string::npos) << text;
    }
}

}  // namespace
}  // namespace ilk

namespace ilk {
namespace {

// The keys reports/matrix-report.md documents under a "## <section>" heading.
std::set<std::string> documented_keys(const std::string& section) {
    std::ifstream doc(std::string(ILK_TEST_SOURCE_DIR) + "/reports/matrix-report.md");
    std::set<std::string> keys;
    std::string line;
    bool in = false;
    while (std::getline(doc, line)) {
        if (line.rfind("## ", 0) == 0) in = line == "## " + section;
        if (!in || line.rfind("| `", 0) != 0) continue;
        const std::string first = line.substr(2, line.find(" |", 2) - 2);
        for (size_t at = first.find('`'); at != std::string::npos; at = first.find('`', first.find('`', at + 1) + 1))
            keys.insert(first.substr(at + 1, first.find('`', at + 1) - at - 1));
    }
    return keys;
}

std::set<std::string> union_of_keys(const std::vector<nlohmann::json>& objects) {
    std::set<std::string> keys;
    for (const nlohmann::json& o : objects)
        for (const auto& [k, v] : o.items()) keys.insert(k);
    return keys;
}

TEST(MatrixDoc, DocumentsExactlyTheKeysTheWriterEmits) {
    const nlohmann::json j = to_json(testing::sample_matrix(true));
    EXPECT_EQ(documented_keys("Top level"), union_of_keys({j}));
    std::vector<nlohmann::json> targets, cells, scenarios;
    for (const auto& t : j["targets"]) {
        targets.push_back(t);
        for (const auto& c : t["cells"]) {
            cells.push_back(c);
            for (const auto& s : c["scenarios"]) scenarios.push_back(s);
        }
    }
    EXPECT_EQ(documented_keys("A target"), union_of_keys(targets));
    EXPECT_EQ(documented_keys("A cell (strategy × target)"), union_of_keys(cells));
    std::set<std::string> emitted = union_of_keys(scenarios);
    emitted.insert("found_ms");  // the sample has no finding time; real runs do
    EXPECT_EQ(documented_keys("A scenario result (strategy × target × scenario)"), emitted);
}

// An operator must tell the strategies apart: how many scenarios each cell
// fails, which ones a strategy fails everywhere, and which strategies hold
// on each target (or fail least, and what they fail).
TEST(MatrixText, NamesWhatEachStrategyFailsAndWhatHolds) {
    MatrixReport r = testing::sample_matrix(false);
    const std::string text = matrix_text(r, {false, 100, ""});
    EXPECT_NE(text.find("per strategy (the scenarios it fails on every target it ran on; on some only):\n"
                        "  tom-2004              concurrent-stale\n"
                        "  lifetime-flock        nothing\n"
                        "  pg-current            nothing everywhere; on some: crash-orphans\n"),
              std::string::npos) << text;
    EXPECT_NE(text.find("summary:\n    tmpfs: SAFE: lifetime-flock\n"), std::string::npos) << text;
    // No strategy SAFE on a target: the ones that fail least, with what they fail.
    for (StrategyCell& c : r.targets[0].cells)
        if (c.strategy == "lifetime-flock") {
            c.scenarios[0].verdict = Verdict::UNSAFE;
            fold_cell(c);
        }
    const std::string none = matrix_text(r, {false, 100, ""});
    EXPECT_NE(none.find("    tmpfs: none SAFE; fewest failing scenarios (1): tom-2004 (concurrent-stale); lifetime-flock\n"
                        "    (concurrent-stale); pg-current (crash-orphans)\n    ext4: SAFE: lifetime-flock\n"),
              std::string::npos)
        << none;
    EXPECT_EQ(failure_count(r.targets[0].cells[0]).failed, 1);
    // Ten failures still fit a cell: "ERR10/14".
    StrategyCell many;
    many.strategy = "x";
    for (int i = 0; i < 14; ++i) {
        ScenarioResult s;
        s.scenario = "s" + std::to_string(i);
        s.verdict = i < 10 ? Verdict::ERROR : Verdict::SAFE;
        many.scenarios.push_back(s);
    }
    fold_cell(many);
    EXPECT_EQ(count_label("ERR", many), "ERR 10/14");
    r.targets[0].cells.push_back(many);
    r.strategies.push_back({"x", "", "", "", {}});
    EXPECT_NE(matrix_text(r, {false, 100, ""}).find("ERR10/14"), std::string::npos);
}

}  // namespace
}  // namespace ilk

// A holder that was never told is listed on its own, under the findings.
TEST(MatrixText, NeverToldIsAFindingOfItsOwn) {
    const std::string text = ilk::matrix_text(ilk::testing::sample_matrix(), {false, 100, ""});
    const size_t at = text.find("\nnever told (");
    ASSERT_NE(at, std::string::npos) << text;
    EXPECT_NE(text.find("  tom-2004 under concurrent-stale (no-notify) on ext4\n      both ran at least 12.1 s", at), std::string::npos) << text;
    // Each variant's verdict, under the finding (of the first target it is listed on: tmpfs).
    ilk::MatrixReport judged = ilk::testing::sample_matrix();
    for (ilk::StrategyCell& c : judged.targets.front().cells)
        for (ilk::ScenarioResult& s : c.scenarios)
            if (c.strategy == "tom-2004" && s.scenario == "concurrent-stale")
                s.variants = {{"notify", ilk::Verdict::SAFE, 1, false, -1, {}}, {"no-notify", ilk::Verdict::UNSAFE, 1, true, 12123, {}}};
    const std::string per = ilk::matrix_text(judged, {false, 100, ""});
    EXPECT_NE(per.find("      per variant: notify SAFE, no-notify UNSAFE (never told)\n"), std::string::npos) << per;
    EXPECT_EQ(text.find("per variant:"), std::string::npos) << "none where the listed result has no variants: " << text;
    const ilk::MatrixReport none = [] {
        ilk::MatrixReport r = ilk::testing::sample_matrix();
        for (ilk::TargetResult& t : r.targets)
            for (ilk::StrategyCell& c : t.cells)
                for (ilk::ScenarioResult& s : c.scenarios) {
                    s.never_told = false;
                    for (ilk::FoundViolation& f : s.findings) f.never_told = false;
                    for (ilk::VariantVerdict& v : s.variants) v.never_told = false;
                }
        return r;
    }();
    EXPECT_EQ(ilk::matrix_text(none, {false, 100, ""}).find("never told"), std::string::npos);
}


namespace {
// The sample with a real server next to its model: postgresql-15 SAFE where
// pg-current is STUCK (crash-orphans on tmpfs), the same elsewhere.
ilk::MatrixReport with_real_server(const std::string& note) {
    ilk::MatrixReport r = ilk::testing::sample_matrix();
    r.strategies.push_back({"postgresql-15", "the real postmaster", "PostgreSQL 15", "pg-current",
                            note.empty() ? std::vector<std::string>{} : std::vector<std::string>{"crash-orphans: " + note}});
    for (ilk::TargetResult& t : r.targets) {
        if (t.cells.empty() || t.name != "tmpfs") continue;
        ilk::StrategyCell real;
        real.strategy = "postgresql-15";
        for (const ilk::StrategyCell& c : t.cells)
            if (c.strategy == "pg-current") real.scenarios = c.scenarios;
        for (ilk::ScenarioResult& s : real.scenarios)
            if (s.scenario == "crash-orphans") {
                s.verdict = ilk::Verdict::SAFE;
                s.reason.clear();
                s.transcript = nullptr;
                s.coverage = "sampled: 10 free-running trials of the real server; only the crashed server's backends holding in 10/10";
            }
        t.cells.push_back(real);
        break;
    }
    return r;
}
}  // namespace

// A real server and its model that disagree are a finding of their own, with
// both results and the server file's note (or the request for one).
TEST(MatrixText, ARealServerAndItsModelThatDisagreeAreAFinding) {
    const ilk::MatrixReport r = with_real_server("");
    const std::vector<ilk::Disagreement> d = ilk::disagreements(r);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].scenario, "crash-orphans");
    EXPECT_EQ(d[0].target, "tmpfs");
    const std::string text = ilk::matrix_text(r, {false, 100, ""});
    const size_t at = text.find("\nreal servers and their models (where they disagree):\n  postgresql-15 SAFE but pg-current STUCK under crash-orphans on tmpfs\n");
    ASSERT_NE(at, std::string::npos) << text;
    std::string section = text.substr(at);  // unwrapped: lines go on at an indent of 6
    for (size_t nl; (nl = section.find("\n      ")) != std::string::npos;) section.replace(nl, 7, " ");
    EXPECT_NE(section.find("only the crashed server's backends holding in 10/10"), std::string::npos) << section;
    EXPECT_NE(section.find("refused: 'another server is starting'"), std::string::npos) << section;
    EXPECT_NE(section.find("not explained yet"), std::string::npos) << section;
    const std::string noted = ilk::matrix_text(with_real_server("the model lacks the backends' own check"), {false, 100, ""});
    EXPECT_NE(noted.find("why: the model lacks the backends' own check"), std::string::npos) << noted;
    // Where they agree, or one was not judged, nothing is said.
    EXPECT_EQ(ilk::matrix_text(ilk::testing::sample_matrix(), {false, 100, ""}).find("real servers and their models"), std::string::npos);
    // The model and the notes survive report.json.
    const ilk::MatrixReport back = ilk::matrix_from_json(ilk::to_json(with_real_server("why")));
    EXPECT_EQ(back.strategies.back().model, "pg-current");
    EXPECT_EQ(back.strategies.back().differences, std::vector<std::string>{"crash-orphans: why"});
    EXPECT_EQ(ilk::disagreements(back).size(), 1u);
    const std::string md = ilk::matrix_markdown(r, {false, 100, ""});
    EXPECT_NE(md.find("## Real servers and their models"), std::string::npos);
    const std::string html = ilk::matrix_html(with_real_server("<script>alert(1)</script>"), {false, 100, ""});
    EXPECT_NE(html.find("<section id=\"real-servers\">"), std::string::npos);
    EXPECT_EQ(html.find("<script>alert(1)"), std::string::npos) << "a note is escaped";
}
