// The probe must *catch* broken primitives, not only pass good ones: each
// deliberately broken fake flips a fact or is contained with a clear reason,
// while the real primitives next to it are still measured.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "probe.h"
#include "profile.h"

namespace fs = std::filesystem;

namespace {

const fs::path kPlugins = ILK_TEST_PLUGIN_DIR;
const fs::path kFakes = ILK_TEST_FAKE_DIR;

class FakeCatch : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ilk-fake-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        setenv("ILK_STATE_DIR", (dir_ / "state").c_str(), 1);
    }
    void TearDown() override {
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

}  // namespace
