// ilk merge: results are never hidden (equal platforms that disagree stay
// both, as a conflict), merges of merges flatten, and unreadable inputs name
// the file and what is wrong with it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "matrix_sample.h"
#include "merge.h"

namespace ilk {
namespace {

namespace fs = std::filesystem;

// The sample as another host saw it: same platform, tom-2004 SAFE on tmpfs.
MatrixReport other_host() {
    MatrixReport r = testing::sample_matrix(false);
    r.host["hostname"] = "host-b";
    for (TargetResult& t : r.targets) t.host = "host-b";
    StrategyCell& cell = r.targets[0].cells[0];
    cell.scenarios[0].verdict = Verdict::SAFE;
    cell.scenarios[0].reason.clear();
    fold_cell(cell);
    r.elapsed_ms = 1000;
    r.interrupted = true;
    return r;
}

TEST(MergeReports, EqualPlatformsThatDisagreeAreBothKept) {
    const MatrixReport a = testing::sample_matrix(false);
    const MatrixReport m = merge_reports({{"a/report.json", a}, {"b/report.json", other_host()}});
    ASSERT_EQ(m.targets.size(), 8u);
    for (size_t i = 0; i < 8; ++i) EXPECT_EQ(m.targets[i].source, i < 4 ? "a/report.json" : "b/report.json") << i;
    EXPECT_EQ(m.targets[4].host, "host-b");
    const std::vector<Column> cols = columns(m);
    ASSERT_EQ(cols.size(), 4u);
    EXPECT_EQ(cols[0].results.size(), 2u);
    EXPECT_TRUE(conflicting(cols[0], "tom-2004"));
    EXPECT_FALSE(conflicting(cols[1], "tom-2004"));

    EXPECT_EQ(m.strategies.size(), 3u);
    EXPECT_EQ(m.scenarios.size(), 3u);
    ASSERT_EQ(m.not_run.size(), 1u);
    EXPECT_EQ(m.not_run[0].name, "freebsd");
    EXPECT_EQ(m.merged_from, (std::vector<std::string>{"a/report.json", "b/report.json"}));
    EXPECT_EQ(m.host, a.host);
    EXPECT_EQ(m.schedule, a.schedule);
    EXPECT_EQ(m.profile, "linux");
    EXPECT_DOUBLE_EQ(m.elapsed_ms, a.elapsed_ms + 1000);
    EXPECT_TRUE(m.interrupted);
}

TEST(MergeReports, IdenticalInputsAreNotDeduplicated) {
    const MatrixReport a = testing::sample_matrix(false);
    const MatrixReport m = merge_reports({{"a.json", a}, {"a.json", a}});
    EXPECT_EQ(m.targets.size(), 8u);
    EXPECT_EQ(columns(m)[0].results.size(), 2u);
    EXPECT_EQ(m.strategies.size(), 3u);
}

TEST(MergeReports, MergingAMergeFlattensAndKeepsSources) {
    const MatrixReport ab = merge_reports({{"a.json", testing::sample_matrix(false)}, {"b.json", other_host()}});
    MatrixReport c = testing::sample_matrix(false);
    c.schedule = "random (seed 7, 500 trials)";
    c.profile = "linux-nfs";
    const MatrixReport abc = merge_reports({{"ab.json", ab}, {"c.json", c}});
    EXPECT_EQ(abc.merged_from, (std::vector<std::string>{"a.json", "b.json", "c.json"}));
    ASSERT_EQ(abc.targets.size(), 12u);
    EXPECT_EQ(abc.targets[0].source, "a.json");
    EXPECT_EQ(abc.targets[4].source, "b.json");
    EXPECT_EQ(abc.targets[8].source, "c.json");
    EXPECT_EQ(abc.schedule, "mixed: " + ab.schedule + "; random (seed 7, 500 trials)");
    EXPECT_EQ(abc.profile, "mixed: linux; linux-nfs");
    // A mix merged again is not nested.
    const MatrixReport again = merge_reports({{"abc.json", abc}, {"d.json", testing::sample_matrix(false)}});
    EXPECT_EQ(again.schedule, abc.schedule);
    EXPECT_EQ(again.merged_from.size(), 4u);

    // The sample's merged form already names its sources; they stay.
    const MatrixReport s = merge_reports({{"x.json", testing::sample_matrix(true)}});
    EXPECT_EQ(s.merged_from, (std::vector<std::string>{"host-a.json", "vm-612.json", "host-b.json"}));
    EXPECT_EQ(s.targets.back().source, "host-b.json");
}

TEST(MergeReports, PlatformsWithResultsAreNoLongerNotRun) {
    MatrixReport bsd = testing::sample_matrix(false);
    for (TargetResult& t : bsd.targets) t.platform = "FreeBSD 14.1-RELEASE";
    bsd.not_run = {{"linux", "Linux", "Linux", "platforms/linux.toml", 20, {"tmpfs"}},
                   {"macos", "Darwin", "macOS", "platforms/macos.toml", 9, {"apfs"}}};
    const MatrixReport m = merge_reports({{"linux.json", testing::sample_matrix(false)}, {"bsd.json", bsd}});
    ASSERT_EQ(m.not_run.size(), 1u);
    EXPECT_EQ(m.not_run[0].name, "macos");
    EXPECT_TRUE(merge_reports({}).targets.empty());
}

TEST(MergeReports, RoundTripsThroughJson) {
    const MatrixReport m = merge_reports({{"a.json", testing::sample_matrix(false)}, {"b.json", other_host()}});
    EXPECT_EQ(to_json(matrix_from_json(to_json(m))), to_json(m));
}

class MergeReadFile : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("ilk-merge-test-" + std::to_string(getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    std::string write(const std::string& name, const std::string& text) {
        const std::string path = (dir_ / name).string();
        std::ofstream(path) << text;
        return path;
    }
    static std::string error_of(const std::string& path) {
        try {
            read_matrix_file(path);
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "(no error)";
    }
    fs::path dir_;
};

TEST_F(MergeReadFile, ReadsAReport) {
    const MatrixReport r = testing::sample_matrix(true);
    MatrixReport expected = r;  // counterexample paths become absolute, under the report's directory
    for (TargetResult& t : expected.targets)
        for (StrategyCell& c : t.cells)
            for (ScenarioResult& s : c.scenarios) {
                if (!s.counterexample.empty()) s.counterexample = (dir_ / s.counterexample).string();
                for (FoundViolation& v : s.findings)
                    if (!v.counterexample.empty()) v.counterexample = (dir_ / v.counterexample).string();
            }
    EXPECT_EQ(to_json(read_matrix_file(write("r.json", to_json(r).dump(2)))), to_json(expected));
}

TEST_F(MergeReadFile, MissingFile) {
    const std::string path = (dir_ / "nope.json").string();
    EXPECT_EQ(error_of(path), path + ": cannot read: No such file or directory");
    EXPECT_EQ(error_of(dir_.string()), dir_.string() + ": cannot read: Is a directory");
}

TEST_F(MergeReadFile, NotJson) {
    const std::string path = write("bad.json", "{\"kind\": \"ilk-matrix\",\n  \"targets\": [}\n");
    const std::string e = error_of(path);
    EXPECT_EQ(e.rfind(path + ": not JSON: parse error at line 2, column ", 0), 0u) << e;
    EXPECT_EQ(e.find("[json.exception"), std::string::npos) << e;
    EXPECT_EQ(error_of(write("empty.json", "")).rfind(dir_.string() + "/empty.json: not JSON: ", 0), 0u);
}

TEST_F(MergeReadFile, NotAMatrixReport) {
    std::string path = write("probe.json", R"({"kind": "ilk-probe"})");
    EXPECT_EQ(error_of(path), path + ": not an ilk matrix report (its \"kind\" is not \"ilk-matrix\"; write one with ilk run --format json)");
    nlohmann::json j = to_json(testing::sample_matrix(false));
    j["targets"][1]["cells"][0].erase("verdict");
    path = write("noverdict.json", j.dump());
    EXPECT_EQ(error_of(path), path + ": report.targets[1].cells[0]: no key 'verdict'");
}

}  // namespace
}  // namespace ilk
