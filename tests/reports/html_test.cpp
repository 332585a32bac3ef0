// The HTML report: a self-contained page (nothing fetched), every string from
// the model escaped, and what the page must show: each cell's verdict and
// deciding scenario with its evidence, conflicts with every source, probe
// deviations highlighted, targets that could not be set up, platforms not run.
// Checks the structure (elements, classes, data- attributes), not a snapshot.
#include <regex>

#include <gtest/gtest.h>

#include "matrix_sample.h"
#include "writers.h"

namespace ilk {
namespace {

const std::string kLinux61 = "linux 6.1.0-28-amd64";
const std::string kLinux612 = "linux 6.12.9-amd64";

std::string page(bool merged) { return matrix_html(testing::sample_matrix(merged), {}); }

size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
    return n;
}

// The element of `tag` opening at `start`, nested ones of the same tag included.
std::string element(const std::string& html, size_t start, const std::string& tag) {
    const std::string open = "<" + tag, close = "</" + tag + ">";
    int depth = 0;
    for (size_t at = start; at < html.size();) {
        const size_t o = html.find(open, at), c = html.find(close, at);
        if (c == std::string::npos) break;
        if (o < c && (html[o + open.size()] == ' ' || html[o + open.size()] == '>')) {
            ++depth;
            at = o + open.size();
        } else if (o < c) {
            at = o + open.size();
        } else {
            if (--depth == 0) return html.substr(start, c + close.size() - start);
            at = c + close.size();
        }
    }
    return "";
}

// The matrix cell of strategy x target on platform ("" when there is none).
std::string cell(const std::string& html, const std::string& strategy, const std::string& target, const std::string& platform = kLinux61) {
    const size_t at = html.find("data-strategy=\"" + strategy + "\" data-target=\"" + target + "\" data-platform=\"" + platform + "\"");
    return at == std::string::npos ? "" : element(html, html.rfind("<td", at), "td");
}

std::string fact_row(const std::string& html, const std::string& fact) {
    const size_t at = html.find("data-fact=\"" + fact + "\"");
    return at == std::string::npos ? "" : element(html, html.rfind("<tr", at), "tr");
}

class HtmlPage : public ::testing::TestWithParam<bool> {};

TEST_P(HtmlPage, IsSelfContained) {
    const std::string html = page(GetParam());
    EXPECT_TRUE(html.starts_with("<!DOCTYPE html>")) << html.substr(0, 100);
    EXPECT_TRUE(html.ends_with("</html>\n"));
    EXPECT_NE(html.find("<style>"), std::string::npos);
    for (const char* network : {"http://", "https://", "@import", "url(", "<script", "<link", "<img", "<iframe", "<object"})
        EXPECT_EQ(html.find(network), std::string::npos) << "page refers to " << network;
    // Only in-page anchors and relative file paths: a scheme ("x:") or "//" would leave the page.
    const std::regex ref(R"re((href|src|action)\s*=\s*"([^"]*)")re");
    int refs = 0;
    for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it, ++refs) {
        const std::string v = (*it)[2];
        EXPECT_EQ((*it)[1], "href") << v;
        EXPECT_FALSE(v.starts_with("//")) << v;
        EXPECT_EQ(v.find(':'), std::string::npos) << v;
    }
    EXPECT_GT(refs, 0);
}

TEST_P(HtmlPage, TagsAreBalanced) {
    const std::string html = page(GetParam());
    for (const char* tag : {"table", "tr", "td", "th", "details", "summary", "section", "ul", "ol", "dl", "li", "div", "p", "span"})
        EXPECT_EQ(count(html, std::string("<") + tag + " ") + count(html, std::string("<") + tag + ">"),
                  count(html, std::string("</") + tag + ">"))
            << "<" << tag << ">";
}

TEST_P(HtmlPage, HostileStringsAppearOnlyEscaped) {
    const std::string html = page(GetParam());
    const std::pair<const char*, const char*> hostile[] = {
        {"PostgreSQL 16-17 <miscinit.c> & \"sysv_shmem.c\"", "PostgreSQL 16-17 &lt;miscinit.c&gt; &amp; &quot;sysv_shmem.c&quot;"},
        {"then B did <7 delete> & ran \"too\"]]>", "then B did &lt;7 delete&gt; &amp; ran &quot;too&quot;]]&gt;"},
        {"refused: 'another server is starting'", "refused: &#39;another server is starting&#39;"},
        {"deleted <old> & \"stale\"", "deleted &lt;old&gt; &amp; &quot;stale&quot;"},
        {"lock <forwarded> & lost", "lock &lt;forwarded&gt; &amp; lost"},
    };
    for (const auto& [raw, escaped] : hostile) {
        EXPECT_EQ(html.find(raw), std::string::npos) << "unescaped: " << raw;
        EXPECT_NE(html.find(escaped), std::string::npos) << "missing: " << escaped;
    }
    for (const char* part : {"<miscinit.c>", "<7 delete>", "<old>", "<forwarded>", "]]>", "'another"})
        EXPECT_EQ(html.find(part), std::string::npos) << part;
    // Every & starts an entity the writer emits on purpose.
    const std::regex stray("&(?!amp;|lt;|gt;|quot;|#39;|times;|middot;)");
    EXPECT_FALSE(std::regex_search(html, stray));
}

TEST_P(HtmlPage, CellsShowVerdictAndDecidingScenario) {
    const std::string html = page(GetParam());
    const std::string unsafe = cell(html, "tom-2004", "ext4");
    EXPECT_TRUE(unsafe.starts_with("<td class=\"cell v-UNSAFE\"")) << unsafe.substr(0, 200);
    EXPECT_NE(unsafe.find("<summary><span class=\"verdict\">UNSAFE</span><span class=\"count\" title=\"failing scenarios of those "
                          "judged\">1/3</span><span class=\"deciding\">concurrent-stale</span></summary>"),
              std::string::npos) << unsafe.substr(0, 400);
    EXPECT_TRUE(cell(html, "lifetime-flock", "tmpfs").starts_with("<td class=\"cell v-SAFE\""));
    const std::string unsupported = cell(html, "pg-current", "ext4");
    EXPECT_TRUE(unsupported.starts_with("<td class=\"cell v-UNSUPPORTED\""));
    EXPECT_NE(unsupported.find("<span class=\"deciding\">container-split</span>"), std::string::npos);
    EXPECT_NE(unsupported.find("scenario container-split needs root; run as root"), std::string::npos);
    // A target without a cell for the strategy says so rather than showing a verdict.
    EXPECT_TRUE(cell(html, "pg-current", "hugetlbfs").starts_with("<td class=\"cell none\""));
    const std::string huge = std::string("<td class=\"cell v-") +
                             std::string(to_string(testing::sample_matrix(GetParam()).targets[3].cells[0].verdict));
    EXPECT_TRUE(cell(html, "tom-2004", "hugetlbfs").starts_with(huge + "\"")) << huge;
}

TEST(HtmlMatrix, StuckCellWhenNotMerged) {
    const std::string stuck = cell(page(false), "pg-current", "tmpfs");
    EXPECT_TRUE(stuck.starts_with("<td class=\"cell v-STUCK\"")) << stuck.substr(0, 200);
    EXPECT_NE(stuck.find("<span class=\"deciding\">crash-orphans</span>"), std::string::npos);
}

TEST(HtmlMatrix, CellOpensToItsScenariosAndEvidence) {
    const std::string c = cell(page(false), "tom-2004", "tmpfs");
    ASSERT_FALSE(c.empty());
    EXPECT_NE(c.find("<details>"), std::string::npos);
    EXPECT_EQ(count(c, "<div class=\"scenario\""), 3u);
    for (const char* s : {"concurrent-stale", "crash-orphans", "container-split"})
        EXPECT_NE(c.find(std::string("data-scenario=\"") + s + "\""), std::string::npos) << s;
    const std::string failing = element(c, c.find("<div class=\"scenario\" id=\"ev-0-tom-2004-concurrent-stale\" data-scenario=\"concurrent-stale\""), "div");
    for (const char* shown :
         {"<dt>schedules</dt><dd>17</dd>", "<dt>faults</dt><dd>1</dd>", "<dd class=\"coverage\">stopped at the first UNSAFE, after 17 schedules</dd>",
          "<dt>variant</dt><dd>2</dd>", "<dt>also found</dt>", "STUCK</span> liveness, variant 2: a lone starter L refused: &lt;corrupt&gt;",
          "href=\"counterexamples/tom-2004--concurrent-stale--2--liveness.json\"",
          "C reached RUNNING first", "<a class=\"counterexample\" href=\"counterexamples/tom-2004--concurrent-stale--2.json\">",
          "<li class=\"kill\" title=\"SIGKILL B\">!B</li>", "1 create postmaster.pid", "EEXIST", "7 delete postmaster.pid",
          "<caption>B</caption>", "<caption>C</caption>"})
        EXPECT_NE(failing.find(shown), std::string::npos) << shown;
    EXPECT_EQ(count(failing, "<li"), 5u) << "one item per decision of B C C !B C";
}

TEST(HtmlMatrix, ConflictShowsEveryResultWithItsSource) {
    const std::string html = page(true);
    for (const char* strategy : {"tom-2004", "pg-current"}) {
        const std::string c = cell(html, strategy, "tmpfs");
        EXPECT_TRUE(c.starts_with("<td class=\"cell conflict\"")) << strategy << ": " << c.substr(0, 200);
        EXPECT_NE(c.find("<div class=\"verdict\">CONFLICT</div>"), std::string::npos);
        EXPECT_NE(c.find("<span class=\"origin\">host-a (host-a.json)</span>"), std::string::npos);
        EXPECT_NE(c.find("<span class=\"origin\">host-b (host-b.json)</span>"), std::string::npos);
        EXPECT_EQ(count(c, "<li class=\"result\">"), 2u);
    }
    const std::string pg = cell(html, "pg-current", "tmpfs");
    EXPECT_NE(pg.find("<span class=\"tag v-STUCK\">STUCK</span>"), std::string::npos);
    EXPECT_NE(pg.find("<span class=\"tag v-SAFE\">SAFE</span>"), std::string::npos);
    // Agreeing merged results are one verdict, each source still named inside.
    const std::string agree = cell(html, "lifetime-flock", "tmpfs");
    EXPECT_TRUE(agree.starts_with("<td class=\"cell v-SAFE\""));
    EXPECT_NE(agree.find("from host-b (host-b.json)"), std::string::npos);
    EXPECT_EQ(page(false).find("class=\"cell conflict\""), std::string::npos);
}

TEST(HtmlMatrix, PlatformsAreHeaderGroupsOnlyWhenSeveral) {
    const std::string merged = page(true);
    EXPECT_NE(merged.find("<th class=\"platform\" data-platform=\"" + kLinux61 + "\" colspan=\"4\">"), std::string::npos);
    EXPECT_NE(merged.find("<th class=\"platform\" data-platform=\"" + kLinux612 + "\" colspan=\"1\">"), std::string::npos);
    EXPECT_TRUE(cell(merged, "tom-2004", "tmpfs", kLinux612).starts_with("<td class=\"cell v-SAFE\""));
    EXPECT_EQ(page(false).find("class=\"platform\""), std::string::npos);
}

TEST_P(HtmlPage, DeviationFactIsHighlighted) {
    const std::string html = page(GetParam());
    const std::string deviation = fact_row(html, "locks.flock.excludes_other_process");
    EXPECT_TRUE(deviation.starts_with("<tr class=\"fact deviation\"")) << deviation.substr(0, 200);
    for (const char* shown :
         {"deviation", "expected <code>true</code>, observed <code>false</code>", "Linux flock(2)", "platforms/linux.toml:40:1"})
        EXPECT_NE(deviation.find(shown), std::string::npos) << shown;
    EXPECT_TRUE(fact_row(html, "locks.fcntl.excludes_other_process").starts_with("<tr class=\"fact\""));
    EXPECT_NE(fact_row(html, "segments.sysv.attach_count_visible").find("not measured: not root"), std::string::npos);
    EXPECT_NE(html.find("tr.deviation td{background:"), std::string::npos) << "the class must be visibly styled";
}

TEST_P(HtmlPage, TargetThatCouldNotBeSetUpShowsTheReason) {
    const std::string html = page(GetParam());
    const size_t at = html.find("class=\"cell v-UNSUPPORTED not-set-up\"");
    ASSERT_NE(at, std::string::npos);
    const std::string c = element(html, html.rfind("<td", at), "td");
    EXPECT_NE(c.find("data-target=\"xfs\""), std::string::npos);
    EXPECT_NE(c.find("rowspan=\"3\""), std::string::npos) << "one cell down the column";
    EXPECT_NE(c.find("not set up: mkfs.xfs is not installed: apt-get install xfsprogs"), std::string::npos);
    const std::string section = element(html, html.find("<section class=\"target\" id=\"target-2\""), "section");
    EXPECT_NE(section.find("no probe ran on this target"), std::string::npos);
}

TEST_P(HtmlPage, NotRunPlatformListedNotAsResult) {
    const std::string html = page(GetParam());
    const std::string section = element(html, html.find("<section id=\"not-run\">"), "section");
    for (const char* shown : {"freebsd", "not run", "12 claims", "platforms/freebsd.toml", "ufs, zfs, tmpfs"})
        EXPECT_NE(section.find(shown), std::string::npos) << shown;
    const std::string matrix = element(html, html.find("<section id=\"matrix\">"), "section");
    EXPECT_EQ(matrix.find("freebsd"), std::string::npos);
}

TEST_P(HtmlPage, HeaderTargetsAndLegend) {
    const std::string html = page(GetParam());
    EXPECT_NE(html.find("<title>ilk matrix: Linux 6.1.0-28-amd64 (host-a)</title>"), std::string::npos);
    const std::string header = element(html, html.find("<header"), "header");
    for (const char* shown : {"Linux 6.1.0-28-amd64 (host-a)", "<dd>linux</dd>", "exhaustive (preemption bound 2", "1 min 39 s"})
        EXPECT_NE(header.find(shown), std::string::npos) << shown;
    EXPECT_EQ(header.find("interrupted"), std::string::npos);
    EXPECT_EQ(header.find("merged-from") != std::string::npos, GetParam());
    const std::string huge = element(html, html.find("<section class=\"target\" id=\"target-3\""), "section");
    for (const char* shown : {"hugetlbfs", "yes: holds segments", "12.3 s", "/tmp/ilk-scratch/hugetlbfs", "rw,relatime", "<dd>kit</dd>"})
        EXPECT_NE(huge.find(shown), std::string::npos) << shown;
    const std::string legend = element(html, html.find("<section id=\"legend\">"), "section");
    for (const char* shown : {"v-SAFE", "v-UNSAFE", "v-STUCK", "v-ERROR", "v-UNSUPPORTED", "CONFLICT", "two starters, a stale pidfile",
                              "seed thread, Bruce Momjian", "flock for the server&#39;s whole life"})
        EXPECT_NE(legend.find(shown), std::string::npos) << shown;
}

INSTANTIATE_TEST_SUITE_P(Html, HtmlPage, ::testing::Bool(), [](const auto& info) { return info.param ? "merged" : "local"; });

TEST(HtmlMerged, ListsInputsAndInterruption) {
    MatrixReport r = testing::sample_matrix(true);
    r.interrupted = true;
    const std::string html = matrix_html(r, {});
    EXPECT_NE(html.find("<p class=\"interrupted\">interrupted: partial report</p>"), std::string::npos);
    EXPECT_NE(html.find("<ul id=\"merged-from\"><li>host-a.json</li><li>vm-612.json</li><li>host-b.json</li></ul>"), std::string::npos);
}

TEST(HtmlEvidence, CounterexamplePathStaysARelativeFile) {
    MatrixReport r = testing::sample_matrix(false);
    r.targets[0].cells[0].scenarios[0].counterexample = "javascript:alert(1)";
    r.targets[1].cells[0].scenarios[0].counterexample = "cx/a b#1?.json";
    const std::string html = matrix_html(r, {});
    EXPECT_NE(html.find("href=\"javascript%3Aalert%281%29\""), std::string::npos);
    EXPECT_NE(html.find("href=\"cx/a%20b%231%3F.json\""), std::string::npos);
    EXPECT_NE(html.find(">cx/a b#1?.json</a>"), std::string::npos) << "the link text is the path as given";
}

TEST(HtmlEvidence, TrialTranscriptIsATablePerContender) {
    MatrixReport r = testing::sample_matrix(false);
    r.targets[0].cells[0].scenarios[0].transcript = {
        {"B", {{"pid", 42}, {"why", "refused <x>"}, {"steps", {{{"step", "open"}, {"saw", "EEXIST"}, {"decision", 3}}}}}},
        {"L", "not json steps"}};
    const std::string c = cell(matrix_html(r, {}), "tom-2004", "tmpfs");
    EXPECT_NE(c.find("<caption>B (pid 42): refused &lt;x&gt;</caption><tr><th>decision</th><th>step</th><th>saw</th></tr>"
                     "<tr><td>3</td><td>open</td><td>EEXIST</td></tr>"),
              std::string::npos);
    EXPECT_NE(c.find("<p>L: <code>not json steps</code></p>"), std::string::npos);
}

TEST(HtmlEvidence, OddlyTypedProbeIsShownNotThrown) {
    // As another host's report would bring them: through the JSON reader.
    nlohmann::json j = to_json(testing::sample_matrix(false));
    j["targets"][0]["probe"] = {{"facts", {{"x", 7}}}, {"profile", "broken"}};
    j["targets"][1]["probe"] = "not an object";
    MatrixReport r = matrix_from_json(j);
    r.host = nullptr;
    const std::string html = matrix_html(r, {});
    EXPECT_NE(html.find("data-fact=\"x\""), std::string::npos);
    EXPECT_TRUE(html.ends_with("</html>\n"));
}

}  // namespace
}  // namespace ilk

TEST(HtmlMatrix, NeverToldIsAFindingOfItsOwn) {
    const std::string html = ilk::find_writer("html")->write(ilk::testing::sample_matrix(), {});
    const size_t at = html.find("<section id=\"never-told\">");
    ASSERT_NE(at, std::string::npos);
    const std::string section = html.substr(at, html.find("</section>", at) - at);
    EXPECT_NE(section.find("<b>tom-2004</b> under concurrent-stale (no-notify) on ext4: both ran at least 12.1 s"), std::string::npos) << section;
    EXPECT_NE(html.find("<dt>per variant</dt><dd class=\"variants\">notify SAFE, no-notify UNSAFE (never told)</dd>"), std::string::npos);
    EXPECT_NE(section.find("&lt;nothing&gt; &amp; &quot;quiet&quot;"), std::string::npos) << section;
}
