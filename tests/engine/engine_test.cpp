// The protocol engine must find what the seed thread claims, replay what it
// finds, and catch a strategy built on a broken primitive. Contenders are real
// processes forked by a real zygote (the ilk binary in contender role).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <filesystem>

#include "engine/explorer.h"
#include "engine/zygote.h"
#include "journal.h"
#include "probe.h"

namespace fs = std::filesystem;

namespace {

class Engine : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        char tmpl[] = "/dev/shm/ilk-engine-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = new fs::path(tmpl);
        fs::permissions(*dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec);  // contenders may run as another uid
        setenv("ILK_STATE_DIR", (*dir_ / "state").c_str(), 1);
        registry_ = new ilk::Registry;
        registry_->load_dirs({ILK_TEST_PLUGIN_DIR, fs::path(ILK_TEST_FAKE_DIR) / "never-excludes"});
        journal_ = new ilk::Journal(ilk::Journal::begin(*dir_));
        ilk::Lab lab(*registry_, *journal_, *dir_);
        for (const auto& p : registry_->primitives()) ilk::check_primitive(lab, p);  // prepare (hugetlbfs mount, pages)
        zygote_ = new ilk::Zygote(ILK_BINARY, ilk::plugin_libraries(*registry_), *journal_);
        env_ = new ilk::TrialEnv{registry_, journal_, journal_->scratch(), zygote_};
        for (const auto& s : ilk::load_strategies({ILK_TEST_SOURCE_DIR "/strategies"})) strategies_->push_back(s);
    }
    static void TearDownTestSuite() {
        delete env_;
        delete zygote_;
        journal_->finish(*registry_);
        delete journal_;
        fs::remove_all(*dir_);
        unsetenv("ILK_STATE_DIR");
    }

    static const ilk::StrategySpec& strategy(const std::string& name) {
        for (const auto& s : *strategies_)
            if (s.name == name) return s;
        throw std::runtime_error("no strategy " + name);
    }
    static ilk::CellResult run(const ilk::StrategySpec& s, const std::string& scenario, ilk::ScheduleOptions o = {}) {
        const ilk::Scenario* sc = ilk::find_scenario(scenario);
        if (!sc) throw std::runtime_error("no scenario " + scenario);
        return ilk::explore(*env_, s, *sc, o);
    }
    static void need_root() {
        if (geteuid() != 0) GTEST_SKIP() << "needs root: PID reuse and other uids are staged with clone3 set_tid and setresuid";
    }

    static fs::path* dir_;
    static ilk::Registry* registry_;
    static ilk::Journal* journal_;
    static ilk::Zygote* zygote_;
    static ilk::TrialEnv* env_;
    static std::vector<ilk::StrategySpec>* strategies_;
};

fs::path* Engine::dir_ = nullptr;
ilk::Registry* Engine::registry_ = nullptr;
ilk::Journal* Engine::journal_ = nullptr;
ilk::Zygote* Engine::zygote_ = nullptr;
ilk::TrialEnv* Engine::env_ = nullptr;
std::vector<ilk::StrategySpec>* Engine::strategies_ = new std::vector<ilk::StrategySpec>;

// Seed thread: "the second one will be deleting the first one's lockfile. Oops."
TEST_F(Engine, Tom2004IsUnsafeUnderConcurrentStaleByTheStep7Deletion) {
    const ilk::CellResult cell = run(strategy("tom-2004"), "concurrent-stale");
    ASSERT_EQ(cell.verdict, ilk::Verdict::UNSAFE) << cell.reason;
    ASSERT_TRUE(cell.counterexample);
    EXPECT_EQ(cell.counterexample->violation.kind, "exclusion");
    EXPECT_NE(cell.reason.find("'7 delete postmaster.pid' (deleted)"), std::string::npos) << cell.reason;
}

TEST_F(Engine, Tom2004CounterexampleReplays20Of20) {
    const ilk::CellResult cell = run(strategy("tom-2004"), "concurrent-stale");
    ASSERT_TRUE(cell.counterexample);
    const auto reloaded = ilk::Counterexample::from_json(cell.counterexample->to_json());
    for (int i = 0; i < 20; ++i) EXPECT_EQ(ilk::replay(*env_, reloaded), ilk::Verdict::UNSAFE) << "replay " << i + 1;
}

// Seed thread: a recycled PID fools the kill(pid, 0) check: the server refuses to start.
TEST_F(Engine, LegacyPidIsStuckOnARecycledPid) {
    need_root();
    const ilk::CellResult cell = run(strategy("legacy-pid"), "pid-reuse");
    EXPECT_EQ(cell.verdict, ilk::Verdict::STUCK) << cell.reason;
}

// A crashed server's orphaned backends still use the directory; kill(pid, 0) cannot see them.
TEST_F(Engine, LegacyPidIsUnsafeBesideOrphanedBackends) {
    const ilk::CellResult cell = run(strategy("legacy-pid"), "crash-orphans");
    EXPECT_EQ(cell.verdict, ilk::Verdict::UNSAFE) << cell.reason;
    EXPECT_NE(cell.reason.find("crashed, its backends still alive"), std::string::npos) << cell.reason;
}

// ... while the attach count of the 9 steps does see them.
TEST_F(Engine, Tom2004RefusesBesideOrphanedBackends) {
    const ilk::CellResult cell = run(strategy("tom-2004"), "crash-orphans");
    EXPECT_EQ(cell.verdict, ilk::Verdict::SAFE) << cell.reason;
    EXPECT_GE(cell.schedules, 1);
}

// POSIX record locks: closing any fd of the file drops the process's lock.
TEST_F(Engine, LifetimeFcntlIsUnsafeWhenAnotherFdIsClosed) {
    EXPECT_EQ(run(strategy("lifetime-fcntl"), "fd-close").verdict, ilk::Verdict::UNSAFE);
    EXPECT_EQ(run(strategy("lifetime-flock"), "fd-close").verdict, ilk::Verdict::SAFE);
}

// The kit must catch a strategy built on a broken primitive.
TEST_F(Engine, LifetimeLockOnABrokenPrimitiveIsCaught) {
    ilk::StrategySpec broken = strategy("lifetime-flock");
    broken.name = "lifetime-never-excludes";
    broken.lock = "never-excludes";
    const ilk::CellResult cell = run(broken, "concurrent-start");
    EXPECT_EQ(cell.verdict, ilk::Verdict::UNSAFE) << cell.reason;
}

// Random schedules are reproducible from their seed.
TEST_F(Engine, RandomScheduleIsReproducible) {
    ilk::ScheduleOptions o;
    o.mode = ilk::ScheduleOptions::Mode::random;
    o.seed = 7;
    o.trials = 40;
    const ilk::CellResult a = run(strategy("legacy-pid"), "concurrent-stale", o);
    const ilk::CellResult b = run(strategy("legacy-pid"), "concurrent-stale", o);
    EXPECT_EQ(a.verdict, b.verdict);
    EXPECT_EQ(a.schedules, b.schedules);
    ASSERT_EQ(a.counterexample.has_value(), b.counterexample.has_value());
    if (a.counterexample) {
        EXPECT_EQ(a.counterexample->seed, b.counterexample->seed);
    }
}

}  // namespace
