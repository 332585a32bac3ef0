// The protocol engine must find what the seed thread claims, replay what it
// finds, and catch a strategy built on a broken primitive. Contenders are real
// processes forked by a real zygote (the ilk binary in contender role).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "engine/explorer.h"
#include "engine/run.h"
#include "engine/server.h"
#include "exec_child.h"
#include "host/local_host.h"
#include "ilk/hugepage_support.h"
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
        registry_->load_dirs({ILK_TEST_PLUGIN_DIR, fs::path(ILK_TEST_FAKE_DIR) / "never-excludes",
                              fs::path(ILK_TEST_FAKE_DIR) / "helper-holds"});
        journal_ = new ilk::Journal(ilk::Journal::begin(*dir_));
        ilk::Lab lab(*registry_, *journal_, *dir_);
        for (const auto& p : registry_->primitives()) ilk::check_primitive(lab, p);  // prepare (hugetlbfs mount, pages)
        host_ = new ilk::LocalHost(*registry_, journal_, ILK_BINARY);
        env_ = new ilk::TrialEnv;
        env_->registry = registry_;
        env_->journal = journal_;
        env_->workdir = journal_->scratch();
        env_->host = host_;
        for (const auto& s : ilk::load_strategies({ILK_TEST_SOURCE_DIR "/strategies"})) strategies_->push_back(s);
    }
    static void TearDownTestSuite() {
        delete env_;
        delete host_;
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
    static ilk::LocalHost* host_;
    static ilk::TrialEnv* env_;
    static std::vector<ilk::StrategySpec>* strategies_;
};

fs::path* Engine::dir_ = nullptr;
ilk::Registry* Engine::registry_ = nullptr;
ilk::Journal* Engine::journal_ = nullptr;
ilk::LocalHost* Engine::host_ = nullptr;
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

// PostgreSQL's recheck: a running server re-reads postmaster.pid and shuts
// down when it names another PID. Put on legacy-pid, whose pidfile a
// lockfile-unlinked starter replaces: the overlap happens (UNSAFE stays), and
// the first server's next recheck ends it, one step later.
TEST_F(Engine, ARecheckEndsTheOverlapAndTheExposureIsMeasured) {
    ilk::StrategySpec s = strategy("legacy-pid");
    s.name = "legacy-pid+recheck";
    s.rechecks = 2;
    const ilk::CellResult cell = run(s, "lockfile-unlinked");
    ASSERT_EQ(cell.verdict, ilk::Verdict::UNSAFE) << cell.reason;
    ASSERT_TRUE(cell.counterexample);
    EXPECT_EQ(cell.counterexample->violation.exposure_steps, 1) << cell.reason;
    EXPECT_NE(cell.reason.find("A recheck ended the overlap 1 step later: A (postmaster.pid names PID"), std::string::npos) << cell.reason;
    // The counterexample file keeps it, and replays to the same.
    const auto reloaded = ilk::Counterexample::from_json(cell.counterexample->to_json());
    EXPECT_EQ(reloaded.violation.exposure_steps, 1);
    EXPECT_EQ(ilk::replay(*env_, reloaded), ilk::Verdict::UNSAFE);
    // Without rechecks the overlap is never ended and no exposure is claimed.
    const ilk::CellResult plain = run(strategy("legacy-pid"), "lockfile-unlinked");
    ASSERT_TRUE(plain.counterexample);
    EXPECT_EQ(plain.counterexample->violation.exposure_steps, -1);
    EXPECT_EQ(plain.reason.find("recheck"), std::string::npos) << plain.reason;
}

// Free-running, the exposure is in milliseconds: about one recheck interval.
TEST_F(Engine, AFreeRunningRecheckEndsTheOverlapInAboutItsInterval) {
    ilk::StrategySpec s = strategy("legacy-pid");
    s.name = "legacy-pid+recheck";
    s.rechecks = 3;
    s.recheck_ms = 150;
    const ilk::ScheduleOutcome out = ilk::run_free(*env_, s, *ilk::find_scenario("lockfile-unlinked"), "unlink", 930);
    ASSERT_TRUE(out.violation);
    EXPECT_EQ(out.violation->kind, "exclusion") << out.violation->explanation;
    EXPECT_GT(out.violation->exposure_ms, 0) << out.violation->explanation;
    EXPECT_LT(out.violation->exposure_ms, 3 * 150 + 1000) << out.violation->explanation;
    EXPECT_NE(out.violation->explanation.find("A recheck ended the overlap"), std::string::npos) << out.violation->explanation;
}

// pg-current+recheck in PID and IPC namespaces of its own: the starter
// writes PID 1 into postmaster.pid, and the running server, PID 1 in its
// namespace too, takes it for its own: the recheck never ends the overlap.
TEST_F(Engine, ARecheckCannotTellPid1FromPid1) {
    need_root();
    const ilk::CellResult cell = run(strategy("pg-current+recheck"), "container-split");
    ASSERT_EQ(cell.verdict, ilk::Verdict::UNSAFE) << cell.reason;
    EXPECT_NE(cell.reason.find("No recheck ended it"), std::string::npos) << cell.reason;
}

// A lock on the data directory itself: no file name to delete or replace,
// and the pidfile is for people only.
TEST_F(Engine, ADirectoryLockSurvivesWhatAFileLockDoesNot) {
    for (const char* scenario : {"lockfile-unlinked", "fd-close", "crash-orphans", "corrupt-pidfile"})
        EXPECT_EQ(run(strategy("lifetime-flock-dir"), scenario).verdict, ilk::Verdict::SAFE) << scenario;
    EXPECT_EQ(run(strategy("lifetime-flock"), "lockfile-unlinked").verdict, ilk::Verdict::UNSAFE);
}

// F_OFD_SETLK and F_SETLK want a write lock on an fd opened for writing, and
// a directory cannot be opened for writing: there is no lifetime-ofd-dir.
// A pidfile is data (a crashed or hostile process may have written it): its
// first line is a PID only as digits naming 1 .. INT_MAX, as PostgreSQL's
// CreateLockFile calls anything else "bogus data in lock file". Before, -1
// and 0 were PIDs (kill(-1, 0) and kill(0, 0) say alive), and 4294967297
// was PID 1 once kill() took it as a pid_t.
TEST(Pidfile, OnlyDigitsNamingAProcessAreAPid) {
    auto state = [](std::string_view text) { return ilk::parse_pidfile(text).state; };
    for (const char* bogus : {"-1\n", "0\n", "4294967297\n", "2147483648\n", "+12\n", " 12\n", "12 \n", "0x10\n", "12abc\n"})
        EXPECT_EQ(state(bogus), ilk::PidfileRead::corrupt) << bogus;
    EXPECT_EQ(state(""), ilk::PidfileRead::empty);
    EXPECT_EQ(state("\n12\n"), ilk::PidfileRead::empty);
    const ilk::PidfileRead r = ilk::parse_pidfile("4242\n/srv/data\n1700000000\n5432\n/tmp\n*\n  5432001     32768\n");
    EXPECT_EQ(r.state, ilk::PidfileRead::ok);
    EXPECT_EQ(r.pid, 4242);
    EXPECT_EQ(r.key, 5432001);
    EXPECT_EQ(r.id, 32768);
    EXPECT_EQ(ilk::parse_pidfile("2147483647").pid, 2147483647) << "no newline needed";
    EXPECT_EQ(ilk::parse_pidfile("77\n").key, -1) << "no line 7: no segment";
}

TEST(DirectoryLock, AnOfdOrFcntlWriteLockNeedsAWritableFd) {
    char tmpl[] = "/dev/shm/ilk-dirlock-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    const int fd = open(tmpl, O_RDONLY | O_DIRECTORY);
    ASSERT_GE(fd, 0);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    EXPECT_EQ(fcntl(fd, F_OFD_SETLK, &fl), -1);
    EXPECT_EQ(errno, EBADF);
    EXPECT_EQ(fcntl(fd, F_SETLK, &fl), -1);
    EXPECT_EQ(errno, EBADF);
    EXPECT_EQ(open(tmpl, O_RDWR | O_DIRECTORY), -1);
    EXPECT_EQ(errno, EISDIR);
    close(fd);
    rmdir(tmpl);
}

// The server interlocks, each the same template with another file: where
// the file holds no PID, the pidfile scenarios do not apply and say so.
TEST_F(Engine, AServerWithoutAPidfileHasNoPidfileCell) {
    const ilk::CellResult cell = run(strategy("innodb"), "corrupt-pidfile");
    EXPECT_EQ(cell.verdict, ilk::Verdict::UNSUPPORTED) << cell.reason;
    EXPECT_NE(cell.reason.find("does not apply: innodb writes no pidfile (its lock is on ibdata1"), std::string::npos) << cell.reason;
    EXPECT_EQ(run(strategy("mongodb"), "lockfile-unlinked").verdict, ilk::Verdict::UNSAFE) << "mongod.lock deleted";
}

// liblockfile's link lock: the link count decides; a dead PID is stale.
TEST_F(Engine, TheLinkLockfileAdmitsOneAndTrustsADeadPid) {
    EXPECT_EQ(run(strategy("link-lockfile"), "concurrent-start").verdict, ilk::Verdict::SAFE);
    EXPECT_EQ(run(strategy("link-lockfile"), "crash-restart").verdict, ilk::Verdict::SAFE);
    EXPECT_EQ(run(strategy("link-lockfile"), "crash-orphans").verdict, ilk::Verdict::UNSAFE);
}

// The kit must catch a strategy built on a broken primitive.
TEST_F(Engine, LifetimeLockOnABrokenPrimitiveIsCaught) {
    ilk::StrategySpec broken = strategy("lifetime-flock");
    broken.name = "lifetime-never-excludes";
    broken.lock = "never-excludes";
    const ilk::CellResult cell = run(broken, "concurrent-start");
    EXPECT_EQ(cell.verdict, ilk::Verdict::UNSAFE) << cell.reason;
}

// Only the backends a server started are its backends. A lock really held by
// a helper process the primitive forked outlives the server and every
// backend: the helper is not killed "with the backends", and once they are
// all gone the next lone starter is refused, with the helper named.
TEST_F(Engine, ALockKeptByAPrimitivesHelperIsNoBackend) {
    ilk::StrategySpec broken = strategy("lifetime-flock");
    broken.name = "lifetime-helper-holds";
    broken.lock = "helper-holds";
    const ilk::CellResult cell = run(broken, "crash-restart");
    ASSERT_EQ(cell.verdict, ilk::Verdict::STUCK) << cell.reason;
    EXPECT_NE(cell.reason.find("that is not one of its backends) is still alive"), std::string::npos) << cell.reason;
    // The same strategy on the real flock is SAFE there.
    EXPECT_EQ(run(strategy("lifetime-flock"), "crash-restart").verdict, ilk::Verdict::SAFE);
}

// The transcript counts the backends the server started: none when it starts
// none, whatever else the server's primitives fork.
TEST_F(Engine, TranscriptCountsOnlyTheBackendsStarted) {
    for (int backends : {0, 1, 3}) {
        ilk::StrategySpec s = strategy("lifetime-flock");
        s.backends = backends;
        const ilk::ScheduleOutcome out =
            ilk::run_schedule(*env_, s, *ilk::find_scenario("clean-restart"), "", {}, 0, nullptr, 900 + backends);
        ASSERT_FALSE(out.violation) << out.violation->explanation;
        std::string running;
        for (const auto& step : out.transcript["A"]["steps"])
            if (step["step"] == "RUNNING") running = step["saw"];
        EXPECT_EQ(running, fmt::format("{} backend{}", backends, backends == 1 ? "" : "s"));
    }
    // A primitive's helper is another child, never counted as a backend.
    ilk::StrategySpec s = strategy("lifetime-flock");
    s.backends = 0;
    s.lock = "helper-holds";
    const ilk::ScheduleOutcome out = ilk::run_schedule(*env_, s, *ilk::find_scenario("clean-restart"), "", {}, 0, nullptr, 910);
    std::string running;
    for (const auto& step : out.transcript["A"]["steps"])
        if (step["step"] == "RUNNING") running = step["saw"];
    EXPECT_EQ(running.rfind("0 backends, and 1 other child (not a backend): ", 0), 0u) << running;
}

// When the machine cannot give a huge page at that moment, hugepage-tom is
// UNSUPPORTED with the reason and the sysctl to raise: neither the kit's ERROR
// nor the strategy's STUCK.
TEST_F(Engine, NoHugePageAtThatMomentIsUnsupportedNotError) {
    need_root();
    const char* kOvercommit = "/proc/sys/vm/nr_overcommit_hugepages";
    const char* kReserved = "/proc/sys/vm/nr_hugepages";
    struct Restore {
        std::string path, value;
        ~Restore() { std::ofstream(path) << value << std::flush; }
    };
    auto read = [](const char* path) {
        std::string v;
        std::ifstream(path) >> v;
        return v;
    };
    const Restore overcommit{kOvercommit, read(kOvercommit)}, reserved{kReserved, read(kReserved)};
    std::ofstream(kReserved) << 0 << std::flush;
    std::ofstream(kOvercommit) << 0 << std::flush;
    if (ilk::meminfo_field("HugePages_Free") > 0) GTEST_SKIP() << "huge pages still free (in use elsewhere): cannot stage their absence";
    const ilk::CellResult cell = run(strategy("hugepage-tom"), "crash-restart");
    EXPECT_EQ(cell.verdict, ilk::Verdict::UNSUPPORTED) << cell.reason;
    EXPECT_NE(cell.reason.find("could not give a huge page"), std::string::npos) << cell.reason;
    EXPECT_NE(cell.reason.find("raise vm.nr_hugepages or vm.nr_overcommit_hugepages"), std::string::npos) << cell.reason;
}

// A counterexample file's verdict is read through the verdict table: a typo or
// a verdict no counterexample can have is refused, never replayed as UNSAFE.
TEST_F(Engine, CounterexampleWithAnUnknownVerdictIsRefused) {
    const ilk::CellResult cell = run(strategy("tom-2004"), "concurrent-stale");
    ASSERT_TRUE(cell.counterexample);
    nlohmann::json j = cell.counterexample->to_json();
    for (const char* bad : {"UNSAFEE", "unsafe", "UNSUPPORTED", "SAFE", "ERROR"}) {
        j["verdict"] = bad;
        EXPECT_THROW(ilk::Counterexample::from_json(j), std::runtime_error) << bad;
    }
    j.erase("verdict");
    EXPECT_THROW(ilk::Counterexample::from_json(j), std::exception);
    j["verdict"] = "STUCK";
    EXPECT_EQ(ilk::Counterexample::from_json(j).verdict, ilk::Verdict::STUCK);
}

// A real program as the server, its state observed from outside: util-linux
// flock(1) holding a lifetime flock for its command, which inherits the lock
// (a backend). It is judged by the same scenarios as the model of the same
// interlock, and gets the same verdicts.
TEST_F(Engine, ARealProgramIsJudgedAsItsModel) {
    ilk::StrategySpec real = strategy("lifetime-flock");
    real.name = "flock(1)";
    real.template_name = "command";
    real.lock.clear();
    real.command = {"flock", "--verbose", "--nonblock", "{datadir}/postmaster.pid", "sleep", "600"};
    for (const char* scenario : {"crash-restart", "crash-orphans", "concurrent-start", "lockfile-unlinked", "frozen-holder"}) {
        const ilk::CellResult model = run(strategy("lifetime-flock"), scenario);
        const ilk::CellResult program = run(real, scenario);
        EXPECT_EQ(program.verdict, model.verdict) << scenario << ": " << program.reason;
    }
    // What a program cannot be made to do is UNSUPPORTED, with the reason.
    const ilk::CellResult fd_close = run(real, "fd-close");
    EXPECT_EQ(fd_close.verdict, ilk::Verdict::UNSUPPORTED) << fd_close.reason;
    EXPECT_NE(fd_close.reason.find("does not apply: flock is a real program, and the scenario needs it to 'touch-lockfile'"), std::string::npos)
        << fd_close.reason;
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

// PCT's plan is the paper's: priorities d..d+n-1 in a random order, d-1
// change points in 1..k; the same seed gives the same plan.
TEST(Pct, PlanAndBoundFollowThePaper) {
    const ilk::PctPlan a = ilk::make_pct_plan(42, 3, 20, 4, 1);
    std::vector<int> sorted = a.priority;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<int>{4, 5, 6}));
    ASSERT_EQ(a.change_points.size(), 3u);
    for (int c : a.change_points) EXPECT_TRUE(c >= 1 && c <= 20) << c;
    ASSERT_EQ(a.fault_points.size(), 1u);
    const ilk::PctPlan b = ilk::make_pct_plan(42, 3, 20, 4, 1);
    EXPECT_EQ(a.priority, b.priority);
    EXPECT_EQ(a.change_points, b.change_points);
    bool differs = false;
    for (std::uint64_t seed = 1; seed < 20 && !differs; ++seed) differs = ilk::make_pct_plan(seed, 3, 20, 4, 1).change_points != a.change_points;
    EXPECT_TRUE(differs) << "the seed does not change the plan";
    // One run: 1/(n k^(d-1)); a crash costs 1/(n k) more; N runs: 1-(1-p)^N.
    EXPECT_DOUBLE_EQ(ilk::pct_probability(2, 10, 3, 0, 1), 1.0 / 200);
    EXPECT_DOUBLE_EQ(ilk::pct_probability(2, 10, 3, 1, 1), 1.0 / 4000);
    EXPECT_NEAR(ilk::pct_probability(2, 10, 3, 0, 100), 1 - std::pow(1 - 1.0 / 200, 100), 1e-12);
    EXPECT_DOUBLE_EQ(ilk::pct_probability(1, 1, 1, 0, 1), 1.0);
}

// PCT finds the step-7 race of tom-2004 on its own, and its counterexample
// (a full schedule, as every mode writes) replays.
TEST_F(Engine, PctFindsTheStep7Race) {
    ilk::ScheduleOptions pct;
    pct.mode = ilk::ScheduleOptions::Mode::pct;
    pct.trials = 300;
    const ilk::CellResult c = run(strategy("tom-2004"), "concurrent-stale", pct);
    ASSERT_EQ(c.verdict, ilk::Verdict::UNSAFE) << c.reason << "\n" << c.coverage;
    ASSERT_TRUE(c.counterexample);
    EXPECT_EQ(c.counterexample->mode, "pct");
    EXPECT_EQ(ilk::replay(*env_, *c.counterexample), ilk::Verdict::UNSAFE) << c.counterexample->to_json().dump();
}

// A STUCK does not end the search: it goes on to its cap looking for an
// UNSAFE, then samples beyond the cap with PCT, and says so.
TEST_F(Engine, AStuckDoesNotEndTheSearch) {
    ilk::ScheduleOptions bounded;
    bounded.pct_runs = 0;
    const ilk::CellResult b = run(strategy("hugepage-tom"), "concurrent-stale", bounded);
    if (b.verdict == ilk::Verdict::UNSUPPORTED) GTEST_SKIP() << b.reason;
    ASSERT_EQ(b.verdict, ilk::Verdict::STUCK) << b.reason;
    EXPECT_EQ(b.schedules, 3 * bounded.max_schedules) << "every variant runs to the cap";
    EXPECT_FALSE(b.complete);
    EXPECT_EQ(b.coverage.rfind("partial: the cap of 50 schedules was hit (variant 2, 3, 2-killed-start)", 0), 0u) << b.coverage;

    ilk::ScheduleOptions mixed;
    mixed.pct_runs = 10;
    const ilk::CellResult m = run(strategy("hugepage-tom"), "concurrent-stale", mixed);
    EXPECT_EQ(m.schedules, 3 * (mixed.max_schedules + mixed.pct_runs));
    EXPECT_NE(m.coverage.find("; then 30 PCT runs of depth 3 (seed 1"), std::string::npos) << m.coverage;
}

// The window Tom Lane's startup lock leaves ("at least the window of
// vulnerability is much smaller than before") is found by the default search:
// a starter killed right after taking the lock, two starters that both judge
// it stale. The same search met a crashed starter's empty pidfile refused for
// good (variant 2): each kind of violation keeps its own shrunk counterexample,
// which replays to its own verdict; the worst decides.
TEST_F(Engine, TheStartupLocksWindowIsFoundByDefault) {
    const ilk::CellResult c = run(strategy("tom-2004+startup-lock"), "concurrent-stale");
    ASSERT_EQ(c.verdict, ilk::Verdict::UNSAFE) << c.reason << "\n" << c.coverage;
    ASSERT_TRUE(c.counterexample);
    EXPECT_EQ(c.counterexample->variant, "2-killed-start");
    EXPECT_EQ(c.counterexample->violation.kind, "exclusion") << "the worst one is the cell's";
    std::map<std::string, ilk::Verdict> kinds;
    for (const auto& f : c.findings) {
        kinds[f.counterexample.violation.kind] = f.counterexample.verdict;
        EXPECT_LE(f.counterexample.schedule.size(), static_cast<size_t>(f.counterexample.shrunk_from));
        EXPECT_EQ(ilk::replay(*env_, f.counterexample), f.counterexample.verdict) << f.counterexample.to_json().dump();
    }
    EXPECT_EQ(kinds, (std::map<std::string, ilk::Verdict>{{"exclusion", ilk::Verdict::UNSAFE}, {"liveness", ilk::Verdict::STUCK}}));
}

// Every result says how far the search went.
TEST_F(Engine, EveryResultSaysWhatItCovered) {
    const ilk::CellResult full = run(strategy("lifetime-flock"), "clean-restart");
    ASSERT_EQ(full.verdict, ilk::Verdict::SAFE) << full.reason;
    EXPECT_TRUE(full.complete);
    EXPECT_EQ(full.coverage.rfind("complete: every schedule with up to 2 preemptions and ", 0), 0u) << full.coverage;

    ilk::ScheduleOptions budget;
    budget.budget_ms = 1;
    const ilk::CellResult cut = run(strategy("lifetime-flock"), "concurrent-start", budget);
    EXPECT_FALSE(cut.complete);
    EXPECT_EQ(cut.coverage.rfind("partial: the time budget of 0.001 s was spent after", 0), 0u) << cut.coverage;

    ilk::ScheduleOptions pct;
    pct.mode = ilk::ScheduleOptions::Mode::pct;
    pct.trials = 10;
    const ilk::CellResult sampled = run(strategy("lifetime-flock"), "concurrent-start", pct);
    ASSERT_EQ(sampled.verdict, ilk::Verdict::SAFE) << sampled.reason;
    EXPECT_FALSE(sampled.complete);
    EXPECT_NE(sampled.coverage.find("PCT runs of depth 3"), std::string::npos) << sampled.coverage;
    EXPECT_NE(sampled.coverage.find("found with probability at least"), std::string::npos) << sampled.coverage;
}

// The partial-order reduction: on a cell whose bounded search completes
// either way, the reduced search runs fewer schedules to the same verdict, and
// says so; it still finds tom-2004's step-7 race, in no more schedules, and a
// crash's sleep entry keeps it from being tried again where nothing it
// touches changed.
TEST_F(Engine, TheReductionRunsLessAndFindsTheSame) {
    ilk::ScheduleOptions reduced, full;
    reduced.max_schedules = full.max_schedules = 2000;
    reduced.pct_runs = full.pct_runs = 0;
    full.reduce = false;
    const ilk::CellResult r = run(strategy("legacy-pid"), "concurrent-start", reduced);
    const ilk::CellResult f = run(strategy("legacy-pid"), "concurrent-start", full);
    ASSERT_TRUE(r.complete && f.complete) << r.coverage << "\n" << f.coverage;
    EXPECT_EQ(r.verdict, f.verdict) << r.reason << "\n" << f.reason;
    EXPECT_GT(r.pruned, 0);
    EXPECT_EQ(f.pruned, 0);
    EXPECT_LT(r.schedules * 3, f.schedules) << "less than a third: " << r.schedules << " vs " << f.schedules;  // 78 vs 474 when written
    EXPECT_NE(r.coverage.find("one order of the steps that commute"), std::string::npos) << r.coverage;
    EXPECT_NE(r.coverage.find("equivalent ones cut short or skipped"), std::string::npos) << r.coverage;

    const ilk::CellResult tr = run(strategy("tom-2004"), "concurrent-stale", reduced);
    const ilk::CellResult tf = run(strategy("tom-2004"), "concurrent-stale", full);
    ASSERT_EQ(tr.verdict, ilk::Verdict::UNSAFE) << tr.reason;
    ASSERT_EQ(tf.verdict, ilk::Verdict::UNSAFE) << tf.reason;
    EXPECT_LE(tr.schedules, tf.schedules);
    EXPECT_EQ(tr.coverage.rfind("stopped at the first UNSAFE, after ", 0), 0u) << tr.coverage;
    EXPECT_EQ(ilk::replay(*env_, *tr.counterexample), ilk::Verdict::UNSAFE) << tr.counterexample->to_json().dump();
}


}  // namespace

// Shards of one target come back as one: cells in the strategies' order (not
// in the order the shards finished), the probe of the first, the time of the slowest.
// A lab for testing the kit: a network mount's lab without NFS, whose acts
// are counted. Its server restart, without notify, deletes every trial's
// postmaster.pid (deliberately broken: a server that forgot what it held), so
// one variant of nfs-server-restart is UNSAFE and the other is not.
class CountingLab : public ilk::LabControl {
public:
    explicit CountingLab(fs::path workdir) : workdir_(std::move(workdir)) {}
    int restarts = 0, restores = 0;
    std::string mount() const override { return "counting"; }
    std::chrono::seconds lease() const override { return std::chrono::seconds(1); }
    std::string restart_server(bool notify, bool) override {
        ++restarts;
        if (!notify)
            for (const auto& e : fs::directory_iterator(workdir_)) {
                std::error_code ec;
                fs::remove(e.path() / "postmaster.pid", ec);
            }
        return notify ? "restarted" : "restarted, every pidfile forgotten";
    }
    std::string set_link(int, bool) override { throw ilk::UnsupportedHere("no links here"); }
    std::string set_recover_lost_locks(int, bool) override { throw ilk::UnsupportedHere("no client here"); }
    void mark_kernel_logs() override {}
    std::vector<std::string> kernel_log(int) override { return {}; }
    std::string crash_client(int) override { throw ilk::UnsupportedHere("no client here"); }
    std::string reboot_client(int) override { throw ilk::UnsupportedHere("no client here"); }
    void restore() override { ++restores; }

private:
    fs::path workdir_;
};

// A network scenario judges each of its variants (the search does not stop at
// the cell's first UNSAFE), and its trials of every strategy share one lab
// event per variant, with the verdicts each trial reaches alone.
TEST_F(Engine, ALabScenarioJudgesEveryVariantAndItsTrialsShareOneEvent) {
    CountingLab lab(env_->workdir);
    ilk::TrialEnv env = *env_;
    env.lab = &lab;
    const ilk::Scenario& restart = *ilk::find_scenario("nfs-server-restart");
    ASSERT_TRUE(ilk::batchable(restart));
    EXPECT_FALSE(ilk::batchable(*ilk::find_scenario("nfs-cross-client"))) << "two starters and a crash: many schedules";
    EXPECT_FALSE(ilk::batchable(*ilk::find_scenario("concurrent-stale")));

    const std::vector<const ilk::StrategySpec*> two{&strategy("legacy-pid"), &strategy("lifetime-flock")};
    std::vector<std::string> told;
    const std::vector<ilk::VariantOutcomes> batch = ilk::run_batch(env, two, restart, [&](const std::string& s) { told.push_back(s); });
    EXPECT_EQ(lab.restarts, 2) << "one restart per variant for both strategies";
    EXPECT_EQ(lab.restores, 2);
    ASSERT_EQ(told.size(), 2u);
    EXPECT_EQ(told[0], "nfs-server-restart (notify): 2 strategies around one lab event");
    ASSERT_EQ(batch.size(), 2u);

    for (size_t i = 0; i < two.size(); ++i) {
        const int before = lab.restarts;
        const ilk::CellResult shared = ilk::explore(env, *two[i], restart, {}, &batch[i]);
        EXPECT_EQ(lab.restarts, before) << "explore took the batch's outcomes";
        ASSERT_EQ(shared.verdict, ilk::Verdict::UNSAFE) << shared.reason;
        ASSERT_EQ(shared.variants.size(), 2u);
        EXPECT_EQ(shared.variants[0].variant, "notify");
        EXPECT_EQ(shared.variants[0].verdict, ilk::Verdict::SAFE) << "judged although it comes before the UNSAFE one";
        EXPECT_EQ(shared.variants[1].variant, "no-notify");
        EXPECT_EQ(shared.variants[1].verdict, ilk::Verdict::UNSAFE);
        EXPECT_EQ(shared.coverage, "every variant judged, each until its first UNSAFE, after 2 schedules");
        EXPECT_GE(shared.elapsed_ms, 3000) << "its share of the batch: half of two settlings of 3 s";
        ASSERT_TRUE(shared.counterexample);
        EXPECT_EQ(shared.counterexample->variant, "no-notify");
        EXPECT_EQ(shared.counterexample->network_mount, "counting");

        const ilk::CellResult alone = ilk::explore(env, *two[i], restart, {});
        EXPECT_EQ(lab.restarts, before + 2) << "alone, a trial stages its own events";
        ASSERT_EQ(alone.variants.size(), 2u);
        for (size_t v = 0; v < 2; ++v) EXPECT_EQ(alone.variants[v].verdict, shared.variants[v].verdict) << two[i]->name;
    }
    // The batch ran before the cell: its share is the cell's time, not its budget.
    ilk::ScheduleOptions tight;
    tight.budget_ms = 50;  // far below its share of the batch (1.5 s a variant)
    const ilk::CellResult budgeted = ilk::explore(env, *two[0], restart, tight, &batch[0]);
    EXPECT_EQ(budgeted.variants.size(), 2u) << budgeted.coverage;
    // lifetime-flock's A still held its lock through the unlinked file, read
    // and wrote it without an error, and its (empty) kernel log said nothing.
    const ilk::CellResult flock = ilk::explore(env, strategy("lifetime-flock"), restart, {}, &batch[1]);
    EXPECT_TRUE(flock.variants[1].never_told);
    EXPECT_GE(flock.variants[1].exposure_ms, 3000) << "both ran through the settling (a lease and 2 s)";
}

TEST(Shards, MergeKeepsTheStrategyOrderAndTheFirstsProbe) {
    std::vector<ilk::StrategySpec> strategies(3);
    strategies[0].name = "a";
    strategies[1].name = "b";
    strategies[2].name = "c";
    ilk::TargetResult first, second;
    first.name = second.name = "tmpfs";
    first.elapsed_ms = 10;
    second.elapsed_ms = 30;
    first.probe = ilk::ProbeReport{};
    first.cells.resize(2);
    first.cells[0].strategy = "a";
    first.cells[1].strategy = "c";
    second.cells.resize(1);
    second.cells[0].strategy = "b";
    const ilk::TargetResult merged = ilk::merge_shards({first, second}, strategies);
    ASSERT_EQ(merged.cells.size(), 3u);
    EXPECT_EQ(merged.cells[0].strategy, "a");
    EXPECT_EQ(merged.cells[1].strategy, "b");
    EXPECT_EQ(merged.cells[2].strategy, "c");
    EXPECT_TRUE(merged.probe.has_value());
    EXPECT_EQ(merged.elapsed_ms, 30);
}

// A helper program's environment: the variables asked for replace the
// inherited ones of the same name, the rest is inherited.
TEST(ExecChild, EnvironmentReplacesWhatItNames) {
    setenv("ILK_TEST_KEEP", "kept", 1);
    setenv("ILK_TEST_SET", "old", 1);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = ilk::exec_child({"/bin/sh", "-c", "echo \"$ILK_TEST_KEEP $ILK_TEST_SET\" >&3"}, fds[1], nullptr,
                                 {.search_path = false, .die_with_parent = false, .env = {"ILK_TEST_SET=new"}, .output = {}});
    close(fds[1]);
    char buf[64] = {};
    const ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "kept new\n");
    EXPECT_STREQ(getenv("ILK_TEST_SET"), "old") << "the harness's own environment changed";
    unsetenv("ILK_TEST_KEEP");
    unsetenv("ILK_TEST_SET");
}

// A helper program with no channel and its output in a file (QEMU for a guest):
// stdin is /dev/null, stdout and stderr go to the file, no other descriptor of ours leaks in.
TEST(ExecChild, OutputToAFileAndNoChannel) {
    char tmpl[] = "/dev/shm/ilk-exec-child-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    const fs::path dir(tmpl), log = dir / "out.log";
    const int leak = open("/dev/null", O_RDONLY);  // not close-on-exec: must still not reach the child
    const pid_t pid = ilk::exec_child({"/bin/sh", "-c", "echo out; echo err >&2; read x || echo eof; ls /proc/$$/fd | tr '\\n' ' '"}, -1,
                                      nullptr, {.search_path = false, .die_with_parent = false, .env = {}, .output = log.string()});
    int status = 0;
    waitpid(pid, &status, 0);
    close(leak);
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "out\nerr\neof\n0 1 2 ") << "fd " << leak << " leaked, or the output went elsewhere";
    EXPECT_EQ(fs::status(log).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
    fs::remove_all(dir);
}
