// The probe must *catch* broken primitives, not only pass good ones: each
// deliberately broken fake flips a fact or is contained with a clear reason,
// while the real primitives next to it are still measured.
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "probe.h"
#include "profile.h"

namespace fs = std::filesystem;

namespace {

const fs::path kPlugins = ILK_TEST_PLUGIN_DIR;
const fs::path kFakes = ILK_TEST_FAKE_DIR;

// A fake's helper (helper-holds, slow-release) outlives the actor that forked
// it and comes back to this process, a subreaper: end and reap every child
// still here, so that no test leaves a process behind (helper-holds' helper
// would otherwise live a minute).
void end_our_children() {
    std::vector<pid_t> ours;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const pid_t pid = std::atoi(entry.path().filename().c_str());
        if (pid <= 0) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
        std::istringstream rest(line.substr(line.rfind(')') + 1));
        char state = 0;
        pid_t ppid = 0;
        if (rest >> state >> ppid && ppid == getpid()) ours.push_back(pid);
    }
    for (const pid_t pid : ours) kill(pid, SIGKILL);
    for (const pid_t pid : ours) waitpid(pid, nullptr, 0);
}

class FakeCatch : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ilk-fake-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        setenv("ILK_STATE_DIR", (dir_ / "state").c_str(), 1);
    }
    void TearDown() override {
        end_our_children();
        unsetenv("ILK_STATE_DIR");
        unsetenv("ILK_HOOK_TIMEOUT_MS");
        fs::remove_all(dir_);
    }

    ilk::ProbeReport probe(const std::string& fake, std::vector<std::string> primitives) {
        registry_.load_dirs({kPlugins, kFakes / fake});
        EXPECT_TRUE(registry_.failures().empty());
        ilk::Journal journal = ilk::Journal::begin(dir_);
        ilk::ProbeReport report = ilk::run_probe(registry_, journal, {dir_, std::move(primitives)});
        journal.finish(registry_);
        EXPECT_FALSE(fs::exists(journal.scratch()));
        return report;
    }

    static const ilk::Fact& fact(const ilk::ProbeReport& r, const std::string& id) {
        static const ilk::Fact missing{};
        auto it = r.facts.find(id);
        EXPECT_NE(it, r.facts.end()) << id << " was not reported";
        return it == r.facts.end() ? missing : it->second;
    }

    ilk::Registry registry_;
    fs::path dir_;
};

TEST_F(FakeCatch, LockThatNeverExcludesIsCaught) {
    const auto r = probe("never-excludes", {"never-excludes", "flock"});
    const ilk::Fact& broken = fact(r, "locks.never-excludes.excludes_other_process");
    ASSERT_TRUE(broken.measured) << broken.reason;
    EXPECT_EQ(broken.value, false);
    EXPECT_EQ(fact(r, "locks.flock.excludes_other_process").value, true);
    // And the Linux profile's "every lock excludes" claim reports it as a deviation.
    const auto profile = ilk::find_profile("linux", ilk::profile_dirs());
    bool flagged = false;
    for (const auto& c : ilk::compare(profile, r.facts))
        if (c.fact_id == "locks.never-excludes.excludes_other_process") flagged = c.outcome == ilk::Outcome::deviation;
    EXPECT_TRUE(flagged);
}

TEST_F(FakeCatch, LockReleasedByForkIsCaught) {
    const auto r = probe("fork-releases", {"fork-releases", "flock"});
    const ilk::Fact& broken = fact(r, "locks.fork-releases.held_while_child_outlives_holder");
    ASSERT_TRUE(broken.measured) << broken.reason;
    EXPECT_EQ(broken.value, false);
    // The same measurement on the real flock, whose lock the child keeps.
    EXPECT_EQ(fact(r, "locks.flock.held_while_child_outlives_holder").value, true);
}

// The lock of slow-release comes 1.5 s after its holder's death: "released"
// all the same, so only the hand-over time, held to the profile's bound, shows it.
TEST_F(FakeCatch, SlowHandOverIsCaught) {
    const auto r = probe("slow-release", {"slow-release", "flock"});
    const ilk::Fact& released = fact(r, "locks.slow-release.released_on_holder_kill");
    ASSERT_TRUE(released.measured) << released.reason;
    EXPECT_EQ(released.value, true);  // the yes/no fact cannot tell
    const ilk::Fact& slow = fact(r, "locks.slow-release.handover_ms");
    ASSERT_TRUE(slow.measured) << slow.reason;
    ASSERT_TRUE(slow.value.is_number()) << slow.value;
    EXPECT_GE(slow.value.get<double>(), 1000) << "the fake releases 1.5 s after its holder's death";
    EXPECT_LT(slow.value.get<double>(), 3000);
    EXPECT_EQ(slow.evidence.value("measured_by", ""), "locks.slow-release.released_on_holder_kill");
    EXPECT_TRUE(slow.evidence.contains("steps"));
    const ilk::Fact& fast = fact(r, "locks.flock.handover_ms");
    ASSERT_TRUE(fast.measured) << fast.reason;
    EXPECT_LE(fast.value.get<double>(), 100);
    const auto profile = ilk::find_profile("linux", ilk::profile_dirs());
    std::map<std::string, ilk::Outcome> outcome;
    for (const auto& c : ilk::compare(profile, r.facts)) outcome[c.fact_id] = c.outcome;
    EXPECT_EQ(outcome["locks.slow-release.handover_ms"], ilk::Outcome::deviation);
    EXPECT_EQ(outcome["locks.slow-release.released_on_holder_kill"], ilk::Outcome::match);
    EXPECT_EQ(outcome["locks.flock.handover_ms"], ilk::Outcome::match);
}

// A lock that never comes has no hand-over time: it says why, and the
// yes/no fact says no.
TEST_F(FakeCatch, LockThatNeverComesHasNoHandOverTime) {
    const auto r = probe("helper-holds", {"helper-holds"});
    EXPECT_EQ(fact(r, "locks.helper-holds.released_on_holder_kill").value, false);
    const ilk::Fact& never = fact(r, "locks.helper-holds.handover_ms");
    EXPECT_FALSE(never.measured);
    EXPECT_TRUE(never.value.is_null());
    EXPECT_NE(never.reason.find("the lock never came"), std::string::npos) << never.reason;
}

TEST_F(FakeCatch, SegfaultInSupportProbeIsContained) {
    const auto r = probe("probe-segfault", {"probe-segfault", "fcntl"});
    ASSERT_EQ(r.primitives.size(), 2u);
    for (const auto& p : r.primitives) {
        if (p.name != "probe-segfault") continue;
        EXPECT_FALSE(p.supported);
        EXPECT_NE(p.reason.find("killed by SIGSEGV"), std::string::npos) << p.reason;
    }
    EXPECT_EQ(fact(r, "locks.probe-segfault.supported").value, false);
    EXPECT_FALSE(fact(r, "locks.probe-segfault.excludes_other_process").measured);
    EXPECT_EQ(fact(r, "locks.fcntl.excludes_other_process").value, true);
}

TEST_F(FakeCatch, SegfaultInsideAnActorIsContained) {
    const auto r = probe("lock-segfault", {"lock-segfault", "fcntl"});
    const ilk::Fact& f = fact(r, "locks.lock-segfault.excludes_other_process");
    EXPECT_FALSE(f.measured);
    EXPECT_NE(f.reason.find("SIGSEGV"), std::string::npos) << f.reason;
    EXPECT_EQ(fact(r, "locks.fcntl.excludes_other_process").value, true);
}

TEST_F(FakeCatch, HangInSupportProbeIsContained) {
    setenv("ILK_HOOK_TIMEOUT_MS", "300", 1);
    const auto r = probe("probe-hang", {"probe-hang", "fcntl"});
    for (const auto& p : r.primitives) {
        if (p.name != "probe-hang") continue;
        EXPECT_FALSE(p.supported);
        EXPECT_NE(p.reason.find("hung"), std::string::npos) << p.reason;
    }
    EXPECT_EQ(fact(r, "locks.fcntl.excludes_other_process").value, true);
}

// `ilk probe` itself, as a porter runs it: on a tmpfs directory the fake's
// slow hand-over is a deviation and --fail-on-deviation exits 1, while the
// real locks hand over within the Linux profile's bound.
class ProbeCli : public ::testing::Test {
protected:
    void SetUp() override {
        struct statfs fs_info {};
        if (statfs("/dev/shm", &fs_info) != 0 || fs_info.f_type != TMPFS_MAGIC) GTEST_SKIP() << "/dev/shm is not a tmpfs here";
        prctl(PR_SET_CHILD_SUBREAPER, 1);  // the fake's helpers outlive `ilk probe`: they come back to us
        char tmpl[] = "/dev/shm/ilk-probe-cli-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        fs::create_directory(dir_ / "target");
        fs::create_directory(dir_ / "state");
        fs::permissions(dir_ / "state", fs::perms::owner_all);
    }
    void TearDown() override {
        end_our_children();
        if (!dir_.empty()) fs::remove_all(dir_);
    }

    struct Probed {
        int exit_code = -1;
        nlohmann::json report;
    };

    // ilk probe --format json on the tmpfs directory, with the given plugin
    // directories and primitives; the Linux profile is the yardstick.
    Probed probe(const std::vector<fs::path>& plugin_dirs, const std::vector<std::string>& primitives, bool fail_on_deviation) {
        std::string path;
        for (const fs::path& d : plugin_dirs) path += (path.empty() ? "" : ":") + d.string();
        std::string cmd = "ILK_STATE_DIR='" + (dir_ / "state").string() + "' ILK_PLUGIN_PATH='" + path + "' '" ILK_BINARY
                          "' probe --platform linux --format json --output '" + (dir_ / "report.json").string() + "' --target '" +
                          (dir_ / "target").string() + "'";
        for (const std::string& p : primitives) cmd += " --primitive " + p;
        if (fail_on_deviation) cmd += " --fail-on-deviation";
        const int status = std::system((cmd + " 2>'" + (dir_ / "stderr").string() + "'").c_str());
        Probed out;
        out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::ifstream in(dir_ / "report.json");
        if (in) out.report = nlohmann::json::parse(in, nullptr, false);
        return out;
    }

    // The outcome of each comparison with the profile, by fact id.
    static std::map<std::string, std::string> outcomes(const nlohmann::json& report) {
        std::map<std::string, std::string> out;
        for (const auto& c : report["profile"]["comparisons"]) out[c["fact"]] = c["outcome"];
        return out;
    }

    fs::path dir_;
};

TEST_F(ProbeCli, SlowHandOverFailsOnDeviation) {
    const Probed r = probe({kPlugins, kFakes / "slow-release"}, {"slow-release"}, true);
    ASSERT_TRUE(r.report.is_object()) << "no JSON report; exit " << r.exit_code;
    EXPECT_EQ(r.exit_code, 1) << "--fail-on-deviation must fail on a hand-over past the profile's bound";
    const nlohmann::json& slow = r.report["facts"]["locks.slow-release.handover_ms"];
    ASSERT_EQ(slow["measured"], true) << slow;
    EXPECT_GE(slow["value"].get<double>(), 1000) << slow;
    std::vector<std::string> deviations;
    for (const auto& c : r.report["profile"]["comparisons"]) {
        if (c["outcome"] != "deviation") continue;
        deviations.push_back(c["fact"]);
        EXPECT_EQ(c["expected"], (nlohmann::json{{"at_most", 100}})) << c;
        EXPECT_FALSE(c["source"].get<std::string>().empty());
    }
    // The hand-over is the only thing wrong with it, so it alone fails the run.
    EXPECT_EQ(deviations, std::vector<std::string>{"locks.slow-release.handover_ms"});
    EXPECT_EQ(outcomes(r.report)["locks.slow-release.released_on_holder_kill"], "match");
}

TEST_F(ProbeCli, RealLocksHandOverWithinTheBound) {
    const std::vector<std::string> locks{"flock", "fcntl", "ofd", "lockf"};
    const Probed r = probe({kPlugins}, locks, false);
    ASSERT_TRUE(r.report.is_object()) << "no JSON report; exit " << r.exit_code;
    EXPECT_EQ(r.exit_code, 0);
    const auto outcome = outcomes(r.report);
    for (const std::string& p : locks) {
        const std::string id = "locks." + p + ".handover_ms";
        const nlohmann::json& f = r.report["facts"][id];
        ASSERT_EQ(f["measured"], true) << id << ": " << f;
        EXPECT_LE(f["value"].get<double>(), 100) << id;
        EXPECT_EQ(outcome.at(id), "match") << id;
    }
}

}  // namespace
