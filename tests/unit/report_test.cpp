// Report writers: the JSON carries its schema version and every documented
// field; the documentation and the writer agree; the text names deviations.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "probe.h"  // measured_fact, unmeasured_fact
#include "report.h"

namespace {

ilk::ProbeReport sample() {
    ilk::ProbeReport r;
    r.host = {{"os", "Linux"}, {"kernel", "6.1"}, {"libc", "glibc 2.36"}, {"hostname", "h"}};
    r.target = {{"path", "/tmp"}, {"fstype", "tmpfs"}};
    r.primitives.push_back({"fcntl", "posix-fcntl", "lock", true, true, ""});
    r.primitives.push_back({"ofd", "linux-ofd", "lock", false, true, "EINVAL"});
    r.facts["locks.fcntl.excludes_other_process"] = ilk::measured_fact("locks.fcntl.excludes_other_process", false);
    r.facts["locks.ofd.excludes_other_process"] = ilk::unmeasured_fact("locks.ofd.excludes_other_process", "ofd is not supported here");
    r.profile = "linux";
    ilk::Expectation e{"locks.*.excludes_other_process", true, "Linux fcntl(2)", "", "", {"linux.toml", 7, 1}, {}};
    r.comparisons.push_back({e, "locks.fcntl.excludes_other_process", ilk::Outcome::deviation, false, ""});
    return r;
}

TEST(ProbeReportJson, CarriesSchemaAndFacts) {
    const auto j = ilk::probe_report_json(sample());
    EXPECT_EQ(j["schema_version"], ilk::kProbeSchemaVersion);
    EXPECT_EQ(j["kind"], "ilk-probe");
    EXPECT_EQ(j["facts"]["locks.fcntl.excludes_other_process"]["value"], false);
    EXPECT_EQ(j["facts"]["locks.fcntl.excludes_other_process"]["measured"], true);
    EXPECT_EQ(j["facts"]["locks.ofd.excludes_other_process"]["reason"], "ofd is not supported here");
    EXPECT_TRUE(j["facts"]["locks.ofd.excludes_other_process"]["value"].is_null());
    EXPECT_EQ(j["primitives"][1]["reason"], "EINVAL");
    const auto& c = j["profile"]["comparisons"][0];
    EXPECT_EQ(c["outcome"], "deviation");
    EXPECT_EQ(c["where"], "linux.toml:7:1");
    EXPECT_EQ(c["source"], "Linux fcntl(2)");
}

// The documented top-level keys are exactly those the writer emits.
TEST(ProbeReportJson, DocumentationMatchesWriter) {
    std::ifstream doc(std::string(ILK_TEST_SOURCE_DIR) + "/reports/probe-report.md");
    ASSERT_TRUE(doc) << "reports/probe-report.md is missing";
    std::stringstream ss;
    ss << doc.rdbuf();
    const std::string text = ss.str();
    const size_t start = text.find("## Top level");
    const size_t end = text.find("## A fact");
    ASSERT_NE(start, std::string::npos);
    const std::string table = text.substr(start, end - start);
    std::set<std::string> documented;
    const std::regex row(R"(\n\| `([a-z_]+)` \|)");
    for (std::sregex_iterator it(table.begin(), table.end(), row), last; it != last; ++it) documented.insert((*it)[1]);
    std::set<std::string> written;
    const nlohmann::json j = ilk::probe_report_json(sample());
    for (const auto& [key, value] : j.items()) written.insert(key);
    EXPECT_EQ(documented, written);
}

// Every fact the probe can report is named in the documentation of the JSON
// and of the profiles, so a new fact cannot ship undocumented.
TEST(ProbeReportJson, DocumentationNamesEveryFact) {
    for (const char* file : {"/reports/probe-report.md", "/platforms/README.md"}) {
        std::ifstream doc(std::string(ILK_TEST_SOURCE_DIR) + file);
        ASSERT_TRUE(doc) << file << " is missing";
        std::stringstream ss;
        ss << doc.rdbuf();
        const std::string text = ss.str();
        for (const auto* names : {&ilk::lock_fact_names(), &ilk::segment_fact_names(), &ilk::process_fact_names(),
                                  &ilk::client_lock_fact_names()})
            for (const std::string& name : *names) {
                const bool named = text.find("`" + name + "`") != std::string::npos ||
                                   text.find("`" + name + ".") != std::string::npos ||
                                   text.find("`process." + name + "`") != std::string::npos ||
                                   text.find(">." + name + "`") != std::string::npos;  // clients.locks.<P>.name
                EXPECT_TRUE(named) << file << " does not name the fact " << name;
            }
    }
}

TEST(ProbeReportText, NamesFactsAndDeviations) {
    const std::string t = ilk::probe_report_text(sample(), {false, false});
    EXPECT_NE(t.find("locks.fcntl.excludes_other_process"), std::string::npos);
    EXPECT_NE(t.find("not measured — ofd is not supported here"), std::string::npos);
    EXPECT_NE(t.find("deviation locks.fcntl.excludes_other_process: expected true, observed false"), std::string::npos) << t;
    EXPECT_NE(t.find("claim: Linux fcntl(2) (linux.toml:7)"), std::string::npos) << t;
    EXPECT_EQ(t.find("\033["), std::string::npos) << "no colour codes unless asked";
}

// A network mount's report (ilk probe --nfs) says what was asked, who served
// and mounted it, and why it was not probed when it was not.
TEST(ProbeReportText, NamesTheNetworkMountAndItsLab) {
    ilk::ProbeReport r = sample();
    r.target = {{"name", "nfs3-nolock"}, {"path", "/mnt/ilk/nfs3-nolock"}, {"fstype", "nfs"}, {"mount_options", "rw,vers=3,nolock,local_lock=all"},
                {"server", {{"implementation", "kernel-nfsd"}, {"export", "/export/nfs3-nolock"}}},
                {"clients", {{{"name", "nfs-client-a"}, {"kernel", "6.1.0-57-amd64"}}, {{"name", "nfs-client-b"}, {"kernel", "6.1.0-57-amd64"}}}},
                {"mount", {{"asked", "vers=3,nolock"}, {"applied", "rw,vers=3,nolock,local_lock=all"}}}};
    std::string t = ilk::probe_report_text(r, {false, false});
    EXPECT_NE(t.find("target: /mnt/ilk/nfs3-nolock (nfs, rw,vers=3,nolock,local_lock=all)"), std::string::npos) << t;
    EXPECT_NE(t.find("network mount nfs3-nolock: asked -o vers=3,nolock; served by kernel-nfsd (/export/nfs3-nolock); mounted on "
                     "nfs-client-a (6.1.0-57-amd64), nfs-client-b (6.1.0-57-amd64)"),
              std::string::npos)
        << t;
    r.target["unsupported"] = "mount.nfs exited 32: access denied";
    t = ilk::probe_report_text(r, {false, false});
    EXPECT_NE(t.find("not probed: mount.nfs exited 32: access denied"), std::string::npos) << t;
}

TEST(ProbeReportText, ColourOnlyWhenAsked) {
    EXPECT_NE(ilk::probe_report_text(sample(), {true, false}).find("\033["), std::string::npos);
}

}  // namespace
