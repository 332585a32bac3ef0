// The JUnit XML report: valid against the common schema (tests/reports/
// junit.xsd, checked with xmllint), counts that add up, failures with their
// explanation and skips with their reason, and whatever bytes the data holds
// still giving well-formed XML. The schema check itself is shown to reject a
// broken document, so it cannot pass by accident.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "matrix_sample.h"
#include "writers.h"

namespace ilk {
namespace {

namespace fs = std::filesystem;

struct Command {
    int status = -1;
    std::string output;
};

Command run(const std::string& command) {
    Command r;
    FILE* p = popen(command.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
    const int status = pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

class JunitXml : public ::testing::Test {
protected:
    void SetUp() override {
        if (std::system("command -v xmllint >/dev/null 2>&1") != 0)
            GTEST_SKIP() << "xmllint not found: apt-get install libxml2-utils";
        dir_ = fs::temp_directory_path() /
               ("ilk-junit-test-" + std::to_string(getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    std::string write(const std::string& name, const std::string& text) {
        const std::string path = (dir_ / name).string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    // xmllint's exit status: 0 valid, 3 invalid, 1 not well-formed, 5 the schema did not compile.
    static Command validate(const std::string& file) {
        return run("xmllint --noout --schema " + quoted(std::string(ILK_TEST_SOURCE_DIR) + "/tests/reports/junit.xsd") + " " + quoted(file) +
                   " 2>&1");
    }
    // The value of an XPath expression over the file, as xmllint prints it.
    static std::string xpath(const std::string& file, const std::string& expr) {
        std::string out = run("xmllint --xpath " + quoted(expr) + " " + quoted(file) + " 2>/dev/null").output;
        if (!out.empty() && out.back() == '\n') out.pop_back();
        return out;
    }
    std::string written(const MatrixReport& r, const std::string& name = "junit.xml") { return write(name, matrix_junit(r, {})); }

    fs::path dir_;
};

// The sample with an ERROR cell as well.
MatrixReport with_error() {
    MatrixReport r = testing::sample_matrix(false);
    ScenarioResult& s = r.targets[1].cells[2].scenarios[1];  // ext4, pg-current, crash-orphans
    s.verdict = Verdict::ERROR;
    s.reason = "contender B: control channel closed (EPIPE); see ilk-report/kit.log";
    fold_cell(r.targets[1].cells[2]);
    return r;
}

TEST_F(JunitXml, SampleValidatesAgainstTheSchema) {
    for (const MatrixReport& r : {testing::sample_matrix(false), testing::sample_matrix(true), with_error()}) {
        const Command v = validate(written(r));
        EXPECT_EQ(v.status, 0) << v.output << matrix_junit(r, {});
        EXPECT_NE(v.output.find("validates"), std::string::npos) << v.output;
    }
}

TEST_F(JunitXml, SchemaRejectsBrokenDocuments) {
    const std::string good = matrix_junit(testing::sample_matrix(false), {});
    const std::string name = " name=\"concurrent-stale\" classname=";
    const size_t at = good.find(name);
    ASSERT_NE(at, std::string::npos) << good;
    std::string nameless = good;
    nameless.replace(at, name.size(), " classname=");
    Command v = validate(write("nameless.xml", nameless));
    EXPECT_EQ(v.status, 3) << "a testcase without a name passed: " << v.output;
    EXPECT_NE(v.output.find("fails to validate"), std::string::npos) << v.output;

    const std::string suite = "<testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\" time=\"0\" "
                              "timestamp=\"2024-01-02T03:04:05\" hostname=\"h\">";
    EXPECT_EQ(validate(write("minimal.xml", suite + "<testcase name=\"n\" classname=\"c\" time=\"0.5\"/></testsuite>")).status, 0);
    for (const std::string& broken : {
             suite + "<testcase name=\"n\" time=\"0\"/></testsuite>",                                     // no classname
             suite + "<failure message=\"m\"/></testsuite>",                                             // failure outside a testcase
             suite + "<testcase name=\"n\" classname=\"c\" time=\"-1\"/></testsuite>",                   // negative time
             suite + "<testcase name=\"n\" classname=\"c\" time=\"0\"><failure/><error/></testcase></testsuite>",  // two outcomes
             std::string("<testsuites><testsuite name=\"s\" tests=\"0\" failures=\"0\" errors=\"0\" time=\"0\" hostname=\"h\"/></testsuites>"),
         }) {
        v = validate(write("broken.xml", broken));
        EXPECT_EQ(v.status, 3) << broken << "\n" << v.output;
    }
}

TEST_F(JunitXml, CountsAddUp) {
    const std::string file = written(with_error());
    // 9 + 9 scenario results on tmpfs and ext4, one set-up skip for xfs, one on hugetlbfs.
    EXPECT_EQ(xpath(file, "string(/testsuites/@tests)"), "20");
    EXPECT_EQ(xpath(file, "count(//testcase)"), "20");
    EXPECT_EQ(xpath(file, "string(/testsuites/@failures)"), "3");  // UNSAFE on tmpfs and ext4, STUCK on tmpfs
    EXPECT_EQ(xpath(file, "count(//testcase/failure)"), "3");
    EXPECT_EQ(xpath(file, "string(/testsuites/@errors)"), "1");
    EXPECT_EQ(xpath(file, "count(//testcase/error)"), "1");
    EXPECT_EQ(xpath(file, "string(/testsuites/@skipped)"), "4");
    EXPECT_EQ(xpath(file, "count(//testcase/skipped)"), "4");
    EXPECT_EQ(xpath(file, "count(/testsuites/testsuite)"), "4");
    for (int i = 1; i <= 4; ++i) {
        const std::string s = "/testsuites/testsuite[" + std::to_string(i) + "]";
        EXPECT_EQ(xpath(file, "count(" + s + "/testcase)"), xpath(file, "string(" + s + "/@tests)")) << s;
        EXPECT_EQ(xpath(file, "count(" + s + "/testcase/failure)"), xpath(file, "string(" + s + "/@failures)")) << s;
        EXPECT_EQ(xpath(file, "count(" + s + "/testcase/error)"), xpath(file, "string(" + s + "/@errors)")) << s;
        EXPECT_EQ(xpath(file, "count(" + s + "/testcase/skipped)"), xpath(file, "string(" + s + "/@skipped)")) << s;
        EXPECT_EQ(xpath(file, "string(" + s + "/@hostname)"), "host-a") << s;
    }
    EXPECT_EQ(xpath(file, "string(/testsuites/testsuite[1]/@time)"), "12.345");
}

TEST_F(JunitXml, MergedResultsGetTheirOwnSuites) {
    const std::string file = written(testing::sample_matrix(true));
    EXPECT_EQ(xpath(file, "count(/testsuites/testsuite)"), "6");
    EXPECT_EQ(xpath(file, "count(/testsuites/testsuite[@name = preceding-sibling::testsuite/@name])"), "0");
    EXPECT_EQ(xpath(file, "string(//testsuite[@hostname='host-b']/properties/property[@name='source']/@value)"), "host-b.json");
    EXPECT_EQ(xpath(file, "count(//testsuite[@name='ilk.linux-6.1.0-28-amd64-tmpfs-host-b']/testcase[@classname="
                          "'ilk.linux-6.1.0-28-amd64-tmpfs-host-b.tom-2004'])"),
              "1");
}

TEST_F(JunitXml, FailuresCarryTheExplanationAndSkipsTheReason) {
    const std::string file = written(testing::sample_matrix(false));
    const std::string unsafe = "//testcase[@classname='ilk.linux-6.1.0-28-amd64-tmpfs.tom-2004'][@name='concurrent-stale']/failure";
    EXPECT_EQ(xpath(file, "string(" + unsafe + "/@type)"), "UNSAFE");
    EXPECT_EQ(xpath(file, "string(" + unsafe + "/@message)"), "C reached RUNNING first; then B did <7 delete> & ran \"too\"]]>");
    const std::string body = xpath(file, "string(" + unsafe + ")");
    for (const char* part : {"C reached RUNNING first; then B did <7 delete> & ran \"too\"]]>", "schedule: B C C !B C", "variant: 2",
                             "counterexample: counterexamples/tom-2004--concurrent-stale--2.json",
                             "ilk replay counterexamples/tom-2004--concurrent-stale--2.json", "deleted <old> & \\\"stale\\\""})
        EXPECT_NE(body.find(part), std::string::npos) << part << " not in:\n" << body;
    EXPECT_EQ(xpath(file, "string(//testcase[@classname='ilk.linux-6.1.0-28-amd64-tmpfs.pg-current'][@name='crash-orphans']/failure/@type)"),
              "STUCK");
    EXPECT_EQ(xpath(file, "string(//testcase[@classname='ilk.linux-6.1.0-28-amd64-xfs.target'][@name='set-up']/skipped/@message)"),
              "target could not be set up: mkfs.xfs is not installed: apt-get install xfsprogs");
    EXPECT_EQ(xpath(file, "string(//testcase[@classname='ilk.linux-6.1.0-28-amd64-ext4.pg-current'][@name='container-split']/skipped/@message)"),
              "scenario container-split needs root; run as root");
    EXPECT_EQ(xpath(file, "count(//testcase[@classname='ilk.linux-6.1.0-28-amd64-ext4.lifetime-flock']/*[not(self::system-out)])"), "0");
}

TEST_F(JunitXml, ForbiddenCharactersAreRemovedAndWhitespaceKept) {
    MatrixReport r = testing::sample_matrix(false);
    r.targets[0].cells[0].scenarios[0].reason = "bell\a esc\x1b[31m bad \xff\xfe utf8 \xed\xa0\x80 surrogate, ok \xc3\xa9";
    r.targets[1].cells[0].scenarios[0].reason = "line one\nline two\ttabbed";
    const std::string xml = matrix_junit(r, {});
    EXPECT_EQ(xml.find('\a'), std::string::npos);
    EXPECT_EQ(xml.find('\x1b'), std::string::npos);
    const std::string file = write("junit.xml", xml);
    const Command v = validate(file);
    EXPECT_EQ(v.status, 0) << v.output;
    EXPECT_EQ(xpath(file, "string(//testcase[@classname='ilk.linux-6.1.0-28-amd64-tmpfs.tom-2004'][@name='concurrent-stale']/failure/@message)"),
              "bell esc[31m bad \xef\xbf\xbd\xef\xbf\xbd utf8  surrogate, ok \xc3\xa9");
    EXPECT_EQ(xpath(file, "string(//testcase[@classname='ilk.linux-6.1.0-28-amd64-ext4.tom-2004'][@name='concurrent-stale']/failure/@message)"),
              "line one\nline two\ttabbed");
}

}  // namespace
}  // namespace ilk
