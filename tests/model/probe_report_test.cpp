// The probe's result model and its JSON: what `ilk probe` writes reads back
// to the same bytes, and a report from another host (ilk merge), which may
// hold anything, is read with its oddly typed parts absent, never thrown.
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "probe_report.h"

namespace ilk {
namespace {

using json = nlohmann::json;

std::string read(const std::string& name) {
    std::ifstream in(std::string(ILK_TEST_DATA_DIR) + "/" + name);
    EXPECT_TRUE(in) << "tests/model/data/" << name << " is missing";
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Real reports: probe-tmpfs.json is `ilk probe --format json` on tmpfs (every
// primitive, facts with evidence, compared with the linux profile);
// probe-from-run.json is a target's probe in an `ilk run` report written
// before the probe model was typed (plugin load failures, absent claims).
constexpr const char* kRealProbes[] = {"probe-tmpfs.json", "probe-from-run.json"};

TEST(ProbeReportJson, RealReportsRoundTripToTheSameBytes) {
    for (const char* name : kRealProbes) {
        const json j = json::parse(read(name));
        ASSERT_TRUE(j.is_object()) << name;
        ASSERT_FALSE(j["profile"]["comparisons"].empty()) << name;
        const std::optional<ProbeReport> r = probe_from_json(j);
        ASSERT_TRUE(r) << name;
        EXPECT_EQ(to_json(*r), j) << name;
        EXPECT_EQ(to_json(*r).dump(2), j.dump(2)) << name;
        json taken = j;
        const std::optional<ProbeReport> moved = probe_from_json(std::move(taken));
        ASSERT_TRUE(moved) << name;
        EXPECT_EQ(to_json(*moved).dump(2), j.dump(2)) << name << ": taking the document apart reads the same";
    }
    // `ilk probe` writes one report as dump(2) and a newline: the same bytes again.
    const std::string text = read("probe-tmpfs.json");
    EXPECT_EQ(to_json(*probe_from_json(json::parse(text))).dump(2) + "\n", text);
}

TEST(ProbeReportJson, RealReportsReadTyped) {
    for (const char* name : kRealProbes) {
        const std::optional<ProbeReport> r = probe_from_json(json::parse(read(name)));
        ASSERT_TRUE(r) << name;
        EXPECT_EQ(r->profile, "linux") << name;
        EXPECT_TRUE(r->compared()) << name;
        EXPECT_FALSE(r->facts.empty()) << name;
        for (const Comparison& c : r->comparisons) {
            EXPECT_FALSE(c.fact_id.empty()) << name;
            EXPECT_FALSE(c.expectation.source.empty()) << c.fact_id;
            EXPECT_GT(c.expectation.where.line, 0) << c.fact_id;
            EXPECT_TRUE(c.expectation.where.file.ends_with("linux.toml")) << c.fact_id;
        }
    }
    const std::optional<ProbeReport> probe = probe_from_json(json::parse(read("probe-tmpfs.json")));
    EXPECT_FALSE(probe->primitives.empty());
    const std::optional<ProbeReport> run = probe_from_json(json::parse(read("probe-from-run.json")));
    EXPECT_FALSE(run->load_failures.empty());
}

TEST(ProbeReportJson, WrittenReportRoundTrips) {
    ProbeReport r;
    r.host = {{"os", "Linux"}};
    r.target = {{"path", "/tmp"}};
    r.primitives.push_back({"fcntl", "posix-fcntl", "lock", true, true, ""});
    r.primitives.push_back({"ofd", "linux-ofd", "lock", false, true, "EINVAL"});
    r.load_failures.push_back({"/lib/ilk/plugins/ilk-x.so", "plugin API version 9"});
    Fact measured{"locks.fcntl.handover_ms", true, 12.5, "", {{"waiter", "granted"}}, 3.25};
    Fact unmeasured{"locks.ofd.supported", false, nullptr, "ofd is not supported here", json::object(), 0};
    r.facts.emplace(measured.id, measured);
    r.facts.emplace(unmeasured.id, unmeasured);
    r.profile = "linux";
    r.profile_file = "/usr/share/ilk/platforms/linux.toml";
    r.comparisons.push_back({{"locks.*.handover_ms", {{kBoundKey, 100}}, "fs/locks.c", "", "", {"a:b/linux.toml", 53, 1}, {}},
                             "locks.fcntl.handover_ms", Outcome::match, 12.5, ""});
    r.comparisons.push_back({{"locks.ofd.supported", true, "fcntl(2)", "", "NFS has none", {"linux.toml", 19, 1}, {"nfs3-nolock", "nfs4.2"}},
                             "locks.ofd.supported", Outcome::unmeasured, nullptr, "ofd is not supported here"});
    r.cleaned = {"a segment of an earlier run"};
    r.elapsed_ms = 42.5;
    r.interrupted = true;
    const json j = to_json(r);
    EXPECT_EQ(j["profile"]["comparisons"][0]["where"], "a:b/linux.toml:53:1");
    const std::optional<ProbeReport> back = probe_from_json(j);
    ASSERT_TRUE(back);
    EXPECT_EQ(to_json(*back), j);
    EXPECT_EQ(back->comparisons[0].expectation.where.file, "a:b/linux.toml") << "a colon in the file name is kept";
    EXPECT_EQ(back->comparisons[1].expectation.known_deviation, "NFS has none");
    EXPECT_EQ(back->comparisons[1].expectation.targets, (std::vector<std::string>{"nfs3-nolock", "nfs4.2"})) << "the targets a claim is written for";
    EXPECT_EQ(back->load_failures[0].library.string(), "/lib/ilk/plugins/ilk-x.so");
}

TEST(ProbeReportJson, NoProfileIsNull) {
    ProbeReport r;
    EXPECT_TRUE(to_json(r)["profile"].is_null());
    const std::optional<ProbeReport> back = probe_from_json(to_json(r));
    ASSERT_TRUE(back);
    EXPECT_FALSE(back->compared());
    EXPECT_EQ(to_json(*back), to_json(r));
}

TEST(ProbeReportTolerant, NotAnObjectIsNoProbe) {
    for (const json& j : {json(nullptr), json(7), json("not an object"), json::array({1, 2})})
        EXPECT_FALSE(probe_from_json(j)) << j.dump();
}

TEST(ProbeReportTolerant, OddlyTypedPartsAreAbsent) {
    const json j = {{"host", "h"},
                    {"target", 3},
                    {"primitives", {1, {{"name", 2}, {"supported", "yes"}, {"kind", "lock"}}}},
                    {"plugin_load_failures", {"x", {{"library", 5}, {"cause", "bad"}}}},
                    {"facts", {{"x", 7}, {"y", {{"measured", "yes"}, {"value", {{"a", 1}}}, {"evidence", "e"}, {"elapsed_ms", "1"}}}}},
                    {"profile",
                     {{"name", 1},
                      {"file", false},
                      {"comparisons",
                       {7,
                        {{"outcome", 3}},
                        {{"outcome", "maybe"}},
                        {{"outcome", "deviation"}},
                        {{"outcome", "deviation"}, {"fact", 5}, {"expected", {{"at_most", "x"}}}, {"where", 9}},
                        {{"outcome", "match"}, {"where", "nowhere"}}}}}},
                    {"cleaned_before_run", {1, "a"}},
                    {"elapsed_ms", "x"},
                    {"interrupted", 1}};
    std::optional<ProbeReport> r;
    ASSERT_NO_THROW(r = probe_from_json(j));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->host.is_null());
    EXPECT_TRUE(r->target.is_null());
    ASSERT_EQ(r->primitives.size(), 1u);
    EXPECT_EQ(r->primitives[0].name, "");
    EXPECT_EQ(r->primitives[0].kind, "lock");
    EXPECT_FALSE(r->primitives[0].supported);
    ASSERT_EQ(r->load_failures.size(), 1u);
    EXPECT_EQ(r->load_failures[0].cause, "bad");
    ASSERT_EQ(r->facts.size(), 2u);
    EXPECT_EQ(r->facts.at("x").id, "x") << "a fact that is not an object keeps its id";
    EXPECT_FALSE(r->facts.at("x").measured);
    EXPECT_FALSE(r->facts.at("y").measured);
    EXPECT_EQ(r->facts.at("y").value, (json{{"a", 1}})) << "a value may be any JSON";
    EXPECT_EQ(r->facts.at("y").evidence, json::object());
    EXPECT_EQ(r->facts.at("y").elapsed_ms, 0);
    EXPECT_EQ(r->profile, "");
    EXPECT_EQ(r->profile_file.string(), "");
    ASSERT_EQ(r->comparisons.size(), 3u) << "the comparisons with a known outcome";
    EXPECT_TRUE(r->compared()) << "comparisons under a nameless profile still count";
    EXPECT_EQ(r->comparisons[1].fact_id, "");
    EXPECT_EQ(to_string(r->comparisons[1].expectation.where), "");
    EXPECT_EQ(expected_text(r->comparisons[1].expectation.value), "at most \"x\"");
    EXPECT_EQ(r->comparisons[2].expectation.where.file, "nowhere");
    EXPECT_EQ(r->cleaned, std::vector<std::string>{"a"});
    EXPECT_EQ(r->elapsed_ms, 0);
    EXPECT_FALSE(r->interrupted);
    ASSERT_NO_THROW(to_json(*r).dump());
}

TEST(ProbeReportOutcome, NamesRoundTrip) {
    for (const Outcome o : {Outcome::match, Outcome::deviation, Outcome::known_deviation, Outcome::unexpectedly_conforms,
                            Outcome::unmeasured, Outcome::absent})
        EXPECT_EQ(outcome_from_string(to_string(o)), o);
    EXPECT_FALSE(outcome_from_string("maybe"));
    EXPECT_TRUE(is_deviation(Outcome::deviation));
    EXPECT_TRUE(is_deviation(Outcome::unexpectedly_conforms));
    EXPECT_FALSE(is_deviation(Outcome::known_deviation));
}

}  // namespace
}  // namespace ilk
