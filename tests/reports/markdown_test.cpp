// The Markdown report: tables that stay tables whatever the data holds, no
// HTML from the data, conflicts shown, findings listed with their evidence.
#include <gtest/gtest.h>

#include <sstream>

#include "matrix_sample.h"
#include "writers.h"

namespace ilk {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Cells of a GFM table row: a pipe right after a backslash is part of the
// cell (GFM's rule, whatever precedes the backslash).
size_t cells_in_row(const std::string& row) {
    size_t pipes = 0;
    for (size_t i = 0; i < row.size(); ++i) pipes += row[i] == '|' && (i == 0 || row[i - 1] != '\\');
    return pipes - 1;
}

// Every table: each row has as many cells as its header; returns how many tables.
int check_tables(const std::string& markdown) {
    const std::vector<std::string> lines = lines_of(markdown);
    int tables = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].rfind("| ", 0) != 0 || (i > 0 && lines[i - 1].rfind("|", 0) == 0)) continue;
        ++tables;
        EXPECT_TRUE(i == 0 || lines[i - 1].empty()) << "no blank line before the table at line " << i + 1;
        const size_t header = cells_in_row(lines[i]);
        EXPECT_GE(header, 2u) << lines[i];
        for (size_t k = i + 1; k < lines.size() && lines[k].rfind("|", 0) == 0; ++k)
            EXPECT_EQ(cells_in_row(lines[k]), header) << "line " << k + 1 << ": " << lines[k] << "\nheader: " << lines[i];
    }
    return tables;
}

// Nothing the data says may become a tag or an entity: every < is escaped,
// and every & starts one of the entities the writer emits.
void expect_no_html(const std::string& markdown) {
    EXPECT_EQ(markdown.find('<'), std::string::npos) << markdown;
    EXPECT_EQ(markdown.find('>'), std::string::npos) << markdown;
    for (size_t at = markdown.find('&'); at != std::string::npos; at = markdown.find('&', at + 1)) {
        const std::string rest = markdown.substr(at, 5);
        EXPECT_TRUE(rest.rfind("&lt;", 0) == 0 || rest.rfind("&gt;", 0) == 0 || rest.rfind("&amp;", 0) == 0)
            << "raw & at " << at << ": " << markdown.substr(at, 40);
    }
}

void rename_strategy(MatrixReport& r, const std::string& from, const std::string& to) {
    for (StrategyInfo& s : r.strategies)
        if (s.name == from) s.name = to;
    for (TargetResult& t : r.targets)
        for (StrategyCell& c : t.cells)
            if (c.strategy == from) c.strategy = to;
}

// Names and explanations that would break a table, start markup or inject HTML.
MatrixReport hostile_matrix() {
    MatrixReport r = testing::sample_matrix(true);
    rename_strategy(r, "lifetime-flock", "a|b\\|c `d` *e* _f_ [g](h) ~i~ $j$ #k");
    r.strategies[0].summary = "<script>alert(1)</script> & <b>bold</b>\nsecond line | x";
    r.targets[1].name = "ext4|<i>x</i>\\";
    r.targets[0].cells[0].scenarios[0].reason = "x | y <img src=x onerror=alert(1)> &amp; ]]>\n# not a heading\n| not a row |";
    r.targets[0].cells[0].deciding_scenario = "con|current\\";
    r.not_run[0].summary = "<iframe> | &";
    r.targets[0].probe->comparisons[0].expectation.source = "flock(2) | <b>man</b> & `x`";
    r.targets[0].probe->comparisons[0].fact_id = "locks.a|b.excludes_other_process";
    return r;
}

TEST(MarkdownReport, TableRowsHaveAsManyCellsAsTheHeader) {
    for (bool merged : {false, true}) {
        const std::string md = matrix_markdown(testing::sample_matrix(merged), {});
        EXPECT_EQ(check_tables(md), 4) << md;  // the matrix, per strategy, the deviations and the targets
    }
    const std::string md = matrix_markdown(hostile_matrix(), {});
    EXPECT_EQ(check_tables(md), 4) << md;
    EXPECT_NE(md.find("| locks.a\\|b.excludes\\_other\\_process |"), std::string::npos) << md;
    EXPECT_NE(md.find("flock(2) \\| &lt;b&gt;man&lt;/b&gt; &amp; \\`x\\`"), std::string::npos) << md;
}

TEST(MarkdownReport, HeaderNamesThePlatformOnlyWhenThereAreSeveral) {
    const std::string one = matrix_markdown(testing::sample_matrix(false), {});
    EXPECT_NE(one.find("| strategy | tmpfs | ext4 | xfs | hugetlbfs |"), std::string::npos) << one;
    const std::string several = matrix_markdown(testing::sample_matrix(true), {});
    EXPECT_NE(several.find("| strategy | linux 6.1.0-28-amd64 / tmpfs | linux 6.1.0-28-amd64 / ext4 |"), std::string::npos) << several;
    EXPECT_NE(several.find("| linux 6.12.9-amd64 / tmpfs |"), std::string::npos) << several;
}

TEST(MarkdownReport, EscapesMarkdownAndHtmlFromTheData) {
    expect_no_html(matrix_markdown(testing::sample_matrix(true), {}));
    const std::string md = matrix_markdown(hostile_matrix(), {});
    expect_no_html(md);
    EXPECT_NE(md.find("a\\|b\\\\\\|c \\`d\\` \\*e\\* \\_f\\_ \\[g\\](h) \\~i\\~ \\$j\\$ \\#k"), std::string::npos) << md;
    EXPECT_NE(md.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; second line \\| x"), std::string::npos) << md;
    EXPECT_NE(md.find("ext4\\|&lt;i&gt;x&lt;/i&gt;\\\\"), std::string::npos) << md;
    EXPECT_NE(md.find("(con\\|current\\\\)"), std::string::npos) << md;
    // An explanation's newlines must not start a heading or a table row of their own.
    EXPECT_NE(md.find("&amp;amp; \\]\\]&gt; \\# not a heading \\| not a row \\|"), std::string::npos) << md;
    for (const std::string& line : lines_of(md)) {
        EXPECT_NE(line.rfind("# not", 0), 0u) << line;
        EXPECT_NE(line.rfind("| not", 0), 0u) << line;
    }
}

TEST(MarkdownReport, ConflictShowsEveryResult) {
    const std::string md = matrix_markdown(testing::sample_matrix(true), {});
    const std::vector<std::string> lines = lines_of(md);
    const auto row = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("| **tom-2004** |", 0) == 0; });
    ASSERT_NE(row, lines.end()) << md;
    EXPECT_NE(row->find("**CONFLICT**: **UNSAFE** 1/3 (concurrent-stale) from host-a.json; SAFE 0/1 from host-b.json"), std::string::npos) << *row;
    const auto flock = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("| **lifetime-flock** |", 0) == 0; });
    ASSERT_NE(flock, lines.end()) << md;
    EXPECT_EQ(flock->find("CONFLICT"), std::string::npos) << *flock;  // both SAFE: no conflict
    for (const std::string& line : lines_of(matrix_markdown(testing::sample_matrix(false), {})))
        EXPECT_TRUE(line.rfind("|", 0) != 0 || line.find("CONFLICT") == std::string::npos) << line;
}

TEST(MarkdownReport, FindingsCarryExplanationScheduleAndReplay) {
    const std::string md = matrix_markdown(testing::sample_matrix(false), {});
    const size_t unsafe = md.find("### UNSAFE: tom-2004 under concurrent-stale\n\nSeen on tmpfs, ext4.");
    const size_t stuck = md.find("### STUCK: pg-current under crash-orphans\n\nSeen on tmpfs.");
    ASSERT_NE(unsafe, std::string::npos) << md;
    ASSERT_NE(stuck, std::string::npos) << md;
    EXPECT_LT(unsafe, stuck);  // worst first
    // tmpfs and ext4 failed with different explanations: both are given.
    EXPECT_NE(md.find("**On tmpfs**: C reached RUNNING first; then B did &lt;7 delete&gt; &amp; ran \"too\"\\]\\]&gt;"), std::string::npos) << md;
    EXPECT_NE(md.find("**On ext4**: C reached RUNNING first\n"), std::string::npos) << md;
    EXPECT_NE(md.find("- schedule: `B C C !B C`, variant 2"), std::string::npos) << md;
    EXPECT_NE(md.find("replay with `ilk replay counterexamples/tom-2004--concurrent-stale--2.json`"), std::string::npos) << md;
    EXPECT_NE(md.find("refused: 'another server is starting'"), std::string::npos) << md;
    // UNSUPPORTED is not a finding.
    EXPECT_EQ(md.find("### UNSUPPORTED"), std::string::npos) << md;
}

// report.md is where a porter looks first: the probe's deviations from the
// profile are there, a row per target and fact, with their source.
TEST(MarkdownReport, DeviationsFromTheProfilePerTarget) {
    const std::string md = matrix_markdown(testing::sample_matrix(false), {});
    const size_t section = md.find("\n## Deviations from the linux profile\n");
    ASSERT_NE(section, std::string::npos) << md;
    EXPECT_LT(md.find("## Findings"), section);
    EXPECT_LT(section, md.find("## Targets"));
    EXPECT_NE(md.find("| target | fact | expected | observed | source |"), std::string::npos) << md;
    for (const char* target : {"tmpfs", "ext4"}) {
        const std::string t(target);
        EXPECT_NE(md.find("| " + t + " | locks.flock.excludes\\_other\\_process | true | false | Linux flock(2) (platforms/linux.toml:40:1) |"),
                  std::string::npos)
            << md;
        EXPECT_NE(md.find("| " + t + " | locks.slow-release.handover\\_ms | at most 100 | 1503.96 | Linux fs/locks.c (platforms/linux.toml:53:1) |"),
                  std::string::npos)
            << md;
    }
    EXPECT_EQ(md.find("conflicts\\_with"), std::string::npos) << "known deviations are counted, not listed";
    EXPECT_NE(md.find("\nNo deviation on hugetlbfs.\n"), std::string::npos) << md;
    EXPECT_NE(md.find("\n2 known deviation(s) not listed: the profile expects them.\n"), std::string::npos) << md;
}

TEST(MarkdownReport, NoDeviationsNoTable) {
    MatrixReport r = testing::sample_matrix(false);
    for (TargetResult& t : r.targets)
        if (t.probe)
            for (Comparison& c : t.probe->comparisons) c.outcome = Outcome::match;
    const std::string md = matrix_markdown(r, {});
    EXPECT_EQ(check_tables(md), 3) << md;
    EXPECT_NE(md.find("## Deviations from the linux profile\n\nProbe facts that break a claim of the profile; `report.json` and "
                      "`report.html` carry the evidence.\n\nNo deviation on tmpfs, ext4, hugetlbfs.\n"),
              std::string::npos)
        << md;
    for (TargetResult& t : r.targets) t.probe.reset();
    EXPECT_EQ(matrix_markdown(r, {}).find("## Deviations"), std::string::npos);
}

TEST(MarkdownReport, StaleKnownDeviationIsListed) {
    MatrixReport r = testing::sample_matrix(false);
    for (Comparison& c : r.targets[0].probe->comparisons)
        if (c.outcome == Outcome::known_deviation) {
            c.outcome = Outcome::unexpectedly_conforms;
            c.observed = false;
        }
    const std::string md = matrix_markdown(r, {});
    EXPECT_NE(md.find("| tmpfs | locks.flock.conflicts\\_with.fcntl | false | false, as documented: the known deviation (NFS emulates "
                      "flock with fcntl) did not happen, so the profile is stale | Linux flock(2) NOTES (platforms/linux.toml:140:1) |"),
              std::string::npos)
        << md;
}

TEST(MarkdownReport, TargetsLegendAndPlatformsNotRun) {
    const std::string md = matrix_markdown(testing::sample_matrix(false), {});
    EXPECT_NE(md.find("| tmpfs | host-a | tmpfs | rw,relatime | /tmp/ilk-scratch/tmpfs | 12.3 s | — |"), std::string::npos) << md;
    EXPECT_NE(md.find("**not set up**: mkfs.xfs is not installed: apt-get install xfsprogs"), std::string::npos) << md;
    EXPECT_NE(md.find("segments only"), std::string::npos) << md;
    EXPECT_NE(md.find("- **STUCK**: "), std::string::npos) << md;
    EXPECT_NE(md.find("- **container-split**: contenders in other PID/IPC namespaces"), std::string::npos) << md;
    EXPECT_NE(md.find("- **freebsd** (FreeBSD): 12 claim(s) in `platforms/freebsd.toml`; its targets: ufs, zfs, tmpfs"), std::string::npos)
        << md;
}

}  // namespace
// What holds where, and what each strategy fails: before the findings.
TEST(MarkdownReport, SummaryAndPerStrategyTable) {
    const std::string md = matrix_markdown(testing::sample_matrix(false), {});
    EXPECT_NE(md.find("\n## Summary\n\n- tmpfs: SAFE: lifetime-flock\n- ext4: SAFE: lifetime-flock\n"), std::string::npos) << md;
    EXPECT_NE(md.find("| **pg-current** | none | crash-orphans | 2 |"), std::string::npos) << md;
    EXPECT_NE(md.find("| **tom-2004** | **UNSAFE** 1/3 (concurrent-stale) |"), std::string::npos) << md;
    EXPECT_LT(md.find("## Summary"), md.find("## Findings"));
}

}  // namespace ilk

// A holder that was never told is a finding of its own.
TEST(MarkdownReport, NeverToldIsAFindingOfItsOwn) {
    const std::string md = ilk::find_writer("markdown")->write(ilk::testing::sample_matrix(), {});
    const size_t at = md.find("\n## Never told\n");
    ASSERT_NE(at, std::string::npos) << md;
    const std::string section = md.substr(at, md.find("\n## ", at + 5) - at);
    EXPECT_NE(section.find("**tom-2004** under concurrent-stale (no-notify) on ext4: both ran at least 12.1 s"), std::string::npos) << section;
    EXPECT_NE(md.find("\n- per variant: notify SAFE, no-notify UNSAFE (never told)\n"), std::string::npos) << md;
    EXPECT_EQ(section.find("tmpfs"), std::string::npos) << "only where it was never told: " << section;
    EXPECT_EQ(section.find("<nothing>"), std::string::npos) << "escaped: " << section;
}
