// The kit never harms the host: after a normal run, after SIGKILL mid-probe
// (then `ilk clean`, or the next `ilk probe`) and after Ctrl-C mid-probe,
// nothing it made is left; and `ilk clean` never touches what is not its own.
// The slow-count fake's attach count hangs, so the kit can be caught while it
// holds real resources (cleanup_fixture.h).
#include <signal.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cleanup_fixture.h"

namespace {

using namespace ilk_test;

TEST_F(CleanupTest, NormalRunLeavesNothingBehind) {
    const pid_t ilk = start_probe("normal");
    ASSERT_GT(ilk, 0);
    const Exit x = wait_for(ilk, kProbeTimeout, [&] { watch(ilk); });
    ASSERT_TRUE(x.finished) << "ilk probe did not finish within " << kProbeTimeout.count() << " s";
    ASSERT_TRUE(x.exited && x.code == 0) << "ilk probe: " << x.describe() << "\n" << stderr_of_last();

    // The run really made things; else "nothing is left" proves nothing.
    const JournalView v = seen();
    ASSERT_EQ(v.scratch.size(), 2u) << "the journal was never seen with its two scratch entries (run, target)";
    ASSERT_TRUE(std::any_of(v.segments.begin(), v.segments.end(), [](const auto& s) { return s.primitive == "slow-count"; }))
        << "no slow-count segment was journaled";
    ASSERT_FALSE(v.procs.empty()) << "no actor process was journaled";
    EXPECT_GE(read_lines(marker_).size(), 1u) << "slow-count's count never hung: the timed-out actor path was not run";
    json r = report();
    ASSERT_TRUE(r.is_object()) << "no JSON report in " << report_;
    EXPECT_EQ(r["interrupted"], false);
    EXPECT_EQ(r["facts"]["segments.slow-count.supported"]["value"], true);

    expect_nothing_left({});
}

TEST_F(CleanupTest, SigkillMidProbeThenCleanRemovesEverything) {
    const pid_t ilk = start_probe("killed");
    ASSERT_GT(ilk, 0);
    ASSERT_TRUE(wait_for_hangs(ilk, 2)) << "slow-count never hung twice\n" << stderr_of_last();
    ASSERT_EQ(kill(ilk, SIGKILL), 0);
    const Exit x = wait_for(ilk, 10s);
    ASSERT_TRUE(x.finished && x.signal == SIGKILL) << x.describe();

    const Leftovers left = find_leftovers();
    assert_real_leftovers(left);
    if (HasFatalFailure()) return;

    Exit cx;
    const std::string out = run_clean(cx);
    ASSERT_TRUE(cx.finished && cx.exited && cx.code == 0) << "ilk clean: " << cx.describe() << "\n" << out;
    const std::string prefix = left.journal.filename().string() + ": ";
    for (const pid_t pid : left.hanging) EXPECT_TRUE(contains(out, prefix + "killed process " + std::to_string(pid))) << out;
    EXPECT_TRUE(contains(out, prefix + "removed " + left.view.scratch[0].string())) << out;
    for (const fs::path& m : left.mounts) EXPECT_TRUE(contains(out, prefix + "unmounted " + m.string())) << out;
    for (const auto& s : left.changed) EXPECT_TRUE(contains(out, prefix + "restored " + s.path + " to " + s.old_value)) << out;
    for (const auto& s : left.raised)
        EXPECT_TRUE(contains(out, prefix + "lowered " + s.path + " by " + std::to_string(s.delta))) << out;
    EXPECT_TRUE(contains(out, "leftover resource(s) of earlier runs removed")) << out;

    expect_nothing_left(left.segments);
}

TEST_F(CleanupTest, SigkillMidProbeThenNextProbeCleansFirst) {
    const pid_t ilk = start_probe("killed");
    ASSERT_GT(ilk, 0);
    ASSERT_TRUE(wait_for_hangs(ilk, 2)) << "slow-count never hung twice\n" << stderr_of_last();
    ASSERT_EQ(kill(ilk, SIGKILL), 0);
    ASSERT_TRUE(wait_for(ilk, 10s).finished);

    const Leftovers left = find_leftovers();
    assert_real_leftovers(left);
    if (HasFatalFailure()) return;

    const pid_t next = start_probe("next", 0);
    ASSERT_GT(next, 0);
    const Exit x = wait_for(next, kProbeTimeout, [&] { watch(next); });
    ASSERT_TRUE(x.finished && x.exited && x.code == 0) << "the next ilk probe: " << x.describe() << "\n" << stderr_of_last();
    json r = report();
    ASSERT_TRUE(r.is_object() && r["cleaned_before_run"].is_array()) << "no cleaned_before_run in " << report_;
    const std::string cleaned = r["cleaned_before_run"].dump();
    const std::string prefix = left.journal.filename().string() + ": ";
    for (const pid_t pid : left.hanging) EXPECT_TRUE(contains(cleaned, prefix + "killed process " + std::to_string(pid))) << cleaned;
    EXPECT_TRUE(contains(cleaned, prefix + "removed " + left.view.scratch[0].string())) << cleaned;
    for (const fs::path& m : left.mounts) EXPECT_TRUE(contains(cleaned, prefix + "unmounted " + m.string())) << cleaned;
    for (const auto& s : left.changed) EXPECT_TRUE(contains(cleaned, prefix + "restored " + s.path)) << cleaned;
    for (const auto& s : left.raised) EXPECT_TRUE(contains(cleaned, prefix + "lowered " + s.path)) << cleaned;

    expect_nothing_left(left.segments);
}

// A terminal's Ctrl-C goes to the whole foreground process group; kill(1) to one pid.
class InterruptTest : public CleanupTest, public ::testing::WithParamInterface<bool> {};

TEST_P(InterruptTest, CtrlCMidProbeStopsAndRemovesEverything) {
    const bool whole_group = GetParam();
    const pid_t ilk = start_probe("interrupted");
    ASSERT_GT(ilk, 0);
    ASSERT_TRUE(wait_for_hangs(ilk, 2)) << "slow-count never hung twice\n" << stderr_of_last();
    const Leftovers held = find_leftovers();
    assert_real_leftovers(held);
    if (HasFatalFailure()) return;

    ASSERT_EQ(kill(whole_group ? -ilk : ilk, SIGINT), 0);
    const Exit x = wait_for(ilk, kInterruptTimeout, [&] { watch(ilk); });
    ASSERT_TRUE(x.finished) << "ilk probe did not stop within " << kInterruptTimeout.count() << " s of SIGINT";
    EXPECT_TRUE(x.exited && x.code == 130) << "ilk probe: " << x.describe() << " (want exit code 130)\n" << stderr_of_last();
    json r = report();
    ASSERT_TRUE(r.is_object()) << "no JSON report in " << report_ << "\n" << stderr_of_last();
    EXPECT_EQ(r["interrupted"], true);

    expect_nothing_left(held.segments);
}

INSTANTIATE_TEST_SUITE_P(Signal, InterruptTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "ToProcessGroup" : "ToIlkOnly"; });

// A running probe's journal is live (its flock is held): `ilk clean` must leave
// the run and everything it holds alone.
TEST_F(CleanupTest, CleanLeavesARunningProbeAlone) {
    const pid_t ilk = start_probe("running");
    ASSERT_GT(ilk, 0);
    ASSERT_TRUE(wait_for_hangs(ilk, 1)) << "slow-count never hung\n" << stderr_of_last();
    const Leftovers held = find_leftovers();
    assert_real_leftovers(held);
    if (HasFatalFailure()) return;

    Exit cx;
    const std::string out = run_clean(cx);
    ASSERT_TRUE(cx.finished && cx.exited && cx.code == 0) << "ilk clean: " << cx.describe() << "\n" << out;
    EXPECT_TRUE(contains(out, "0 leftover resource(s)")) << out;
    EXPECT_TRUE(fs::exists(held.journal)) << "ilk clean removed a live journal";
    EXPECT_TRUE(fs::is_directory(held.view.scratch[0])) << "ilk clean removed a running probe's scratch directory";
    for (const pid_t pid : held.hanging)
        for (const auto& p : held.live_procs)
            if (p.pid == pid) {
                EXPECT_TRUE(alive_as(p.pid, p.start)) << "ilk clean killed actor " << pid << " of a running probe";
            }
    for (const ShmSegment& s : held.segments) EXPECT_TRUE(shmid_exists(s.shmid)) << "ilk clean removed a running probe's segment";
    for (const fs::path& m : held.mounts) EXPECT_TRUE(is_mount_point(m)) << "ilk clean unmounted a running probe's " << m;
    EXPECT_EQ(waitpid(ilk, nullptr, WNOHANG), 0) << "the running probe ended while ilk clean ran";

    ASSERT_EQ(kill(ilk, SIGINT), 0);
    const Exit x = wait_for(ilk, kInterruptTimeout, [&] { watch(ilk); });
    ASSERT_TRUE(x.finished) << "ilk probe did not stop within " << kInterruptTimeout.count() << " s of SIGINT";
    expect_nothing_left(held.segments);
}

// A plugin hook that hangs in its sandboxed child (a prepare() stuck on a dead
// NFS server) when the kit is SIGKILLed: that child must not outlive the kit,
// or it keeps the journal's lock and `ilk clean` takes the dead run for a live one.
TEST_F(CleanupTest, SigkillWhileASandboxedHookHangsThenCleanRemovesEverything) {
    const pid_t ilk = start_probe("killed", 60, "supported");
    ASSERT_GT(ilk, 0);
    ASSERT_TRUE(wait_for_hangs(ilk, 1)) << "slow-count's supported() never hung\n" << stderr_of_last();
    ASSERT_EQ(kill(ilk, SIGKILL), 0);
    ASSERT_TRUE(wait_for(ilk, 10s).finished);

    const Leftovers left = find_leftovers();
    std::cout << describe(left);
    ASSERT_FALSE(left.journal.empty()) << "expected exactly one journal in " << state_;
    ASSERT_EQ(left.view.scratch.size(), 2u);
    ASSERT_TRUE(fs::is_directory(left.view.scratch[0]));

    Exit cx;
    const std::string out = run_clean(cx);
    ASSERT_TRUE(cx.finished && cx.exited && cx.code == 0) << "ilk clean: " << cx.describe() << "\n" << out;
    EXPECT_TRUE(contains(out, "removed " + left.view.scratch[0].string())) << out;
    for (const fs::path& m : left.mounts) EXPECT_TRUE(contains(out, "unmounted " + m.string())) << out;
    expect_nothing_left(left.segments);
}

// When an entry cannot be undone (its plugin is not loaded), the journal must
// stay so that a later clean, with the plugin, can finish the job.
TEST_F(CleanupTest, CleanKeepsAJournalWithAnEntryItCouldNotUndo) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t creator = fork();  // a segment whose creator is gone, as a dead actor leaves one
    ASSERT_GE(creator, 0);
    if (creator == 0) {
        for (int i = 0; i < 64; ++i) {
            const long long key = 0x1c7f0000LL | ((getpid() + i) & 0xffff);  // outside the kit's 0x49xxxxxx
            const int id = shmget(static_cast<key_t>(key), 4096, IPC_CREAT | IPC_EXCL | 0600);
            if (id < 0) continue;
            const long long msg[2] = {key, id};
            _exit(write(fds[1], msg, sizeof msg) == static_cast<ssize_t>(sizeof msg) ? 0 : 1);
        }
        _exit(1);
    }
    close(fds[1]);
    long long msg[2] = {};
    const ssize_t n = read(fds[0], msg, sizeof msg);
    close(fds[0]);
    ASSERT_TRUE(wait_for(creator, 5s).finished);
    ASSERT_EQ(n, static_cast<ssize_t>(sizeof msg)) << "could not create a test segment";
    const long long key = msg[0];
    const int shmid = static_cast<int>(msg[1]);
    own_shmids_.push_back(shmid);

    const fs::path scratch = target_ / "ilk-scratch-1-0badc0de";
    fs::create_directory(scratch);
    const fs::path journal = state_ / "run-1-0badc0de.journal";
    write_journal(journal, "scratch " + scratch.string() + "\n" + "segment slow-count " + std::to_string(key) + " " +
                               std::to_string(creator) + "\n");

    Exit cx;
    std::string out = run_clean(cx, /*with_fake=*/false);
    ASSERT_TRUE(cx.finished && cx.exited && cx.code == 0) << "ilk clean: " << cx.describe() << "\n" << out;
    EXPECT_TRUE(contains(out, "could not reclaim 1 slow-count segment(s) (key " + std::to_string(key) + ")")) << out;
    EXPECT_TRUE(contains(out, "the slow-count plugin is not loaded")) << out;
    EXPECT_TRUE(contains(out, "1 resource(s) not removed")) << out;
    EXPECT_TRUE(contains(out, "1 journal(s) kept for a later ilk clean: " + journal.filename().string())) << out;
    EXPECT_TRUE(contains(out, "removed " + scratch.string())) << out;
    EXPECT_TRUE(shmid_exists(shmid)) << "the segment went without its plugin?";
    ASSERT_TRUE(fs::exists(journal)) << "the journal was deleted with an entry not undone: the segment is now lost to every later clean";

    out = run_clean(cx, /*with_fake=*/true);
    ASSERT_TRUE(cx.finished && cx.exited && cx.code == 0) << "ilk clean: " << cx.describe() << "\n" << out;
    EXPECT_FALSE(contains(out, "could not")) << out;
    EXPECT_FALSE(shmid_exists(shmid)) << "the second clean, with the plugin, did not reclaim the segment";
    EXPECT_TRUE(journal_files(state_).empty()) << out;
    EXPECT_FALSE(fs::exists(scratch));
}

// Root only: the hugetlbfs mount in the scratch directory and the raised
// vm.nr_overcommit_hugepages really outlive a SIGKILLed kit, and `ilk clean` undoes both.
TEST_F(CleanupTest, SigkillMidProbeHugepageMountAndSysctlAreRestoredByClean) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: only root makes the hugetlbfs mount and raises " << kOvercommit;
    if (!kernel_has_filesystem("hugetlbfs")) GTEST_SKIP() << "the kernel has no hugetlbfs (/proc/filesystems)";
    // As root the kit mounts its own hugetlbfs, whatever mounts the host (or
    // another run) has: this test runs beside them.
    const pid_t ilk = start_probe("killed");
    ASSERT_GT(ilk, 0);
    ASSERT_TRUE(wait_for_hangs(ilk, 1)) << "slow-count never hung\n" << stderr_of_last();
    ASSERT_EQ(kill(ilk, SIGKILL), 0);
    ASSERT_TRUE(wait_for(ilk, 10s).finished);

    const Leftovers left = find_leftovers();
    assert_real_leftovers(left);
    if (HasFatalFailure()) return;
    ASSERT_EQ(left.mounts.size(), 1u) << "the hugetlbfs plugin's journaled mount is not mounted:\n"
                                      << read_text(left.journal) << stderr_of_last();
    const auto mounts = all_mounts();
    EXPECT_TRUE(std::any_of(mounts.begin(), mounts.end(), [&](const MountInfo& m) {
        return m.dir == left.mounts[0] && m.type == "hugetlbfs";
    })) << left.mounts[0] << " is not a hugetlbfs mount";
    EXPECT_EQ(left.mounts[0].parent_path(), left.view.scratch[0]) << "the mount is not inside the scratch directory";
    EXPECT_TRUE(left.view.sysctls.empty()) << "the kit journaled an absolute sysctl change, not a delta (sysctl-add)";
    if (left.view.sysctl_adds.empty()) {
        std::cout << "note: the host had huge pages to spare, so the kit changed no sysctl\n";
    } else if (sysctl_comparable()) {
        ASSERT_EQ(left.raised.size(), 1u) << kOvercommit << " was journaled but is not above its value before the test";
        EXPECT_NE(read_long(kOvercommit), sysctl_before_) << "the raised value should still be in place";
    }

    Exit cx;
    const std::string out = run_clean(cx);
    ASSERT_TRUE(cx.finished && cx.exited && cx.code == 0) << "ilk clean: " << cx.describe() << "\n" << out;
    EXPECT_TRUE(contains(out, "unmounted " + left.mounts[0].string())) << out;
    for (const auto& s : left.raised) EXPECT_TRUE(contains(out, "lowered " + s.path + " by " + std::to_string(s.delta))) << out;
    expect_nothing_left(left.segments);
}

// `ilk clean` trusts a journal only as far as the host agrees: a process with
// another start time, a segment some other process created and a sysctl that
// no longer holds the journaled value are not the kit's, and stay. (Entries
// the kit never writes at all: planted_journal_test.cpp.)
TEST_F(CleanupTest, CleanNeverTouchesWhatIsNotOurs) {
    int shmid = -1;
    long long key = 0;
    for (int i = 0; i < 64 && shmid < 0; ++i) {
        key = 0x1c7e0000LL | ((getpid() + i) & 0xffff);  // outside the kit's 0x49xxxxxx
        shmid = shmget(static_cast<key_t>(key), 4096, IPC_CREAT | IPC_EXCL | 0600);
    }
    ASSERT_GE(shmid, 0) << "could not create a test segment: " << std::strerror(errno);
    own_shmids_.push_back(shmid);

    const pid_t sleeper = fork();
    ASSERT_GE(sleeper, 0);
    if (sleeper == 0) {
        execlp("sleep", "sleep", "300", static_cast<char*>(nullptr));
        _exit(127);
    }
    const auto st = proc_stat(sleeper);
    ASSERT_TRUE(st.has_value());
    const std::optional<long> overcommit = read_long(kOvercommit);
    ASSERT_TRUE(overcommit.has_value()) << "cannot read " << kOvercommit;

    const fs::path journal = state_ / "run-1-0badc0de.journal";
    std::ostringstream j;
    j << "proc " << sleeper << " " << st->start + 12345 << "\n";  // the same pid, another process
    j << "segment sysv " << key << " " << sleeper << "\n";       // our key, but we created it, not sleeper
    j << "segment sysv-huge " << key << " " << sleeper << "\n";
    j << "segment slow-count " << key << " " << sleeper << "\n";
    j << "shm " << key << " " << sleeper << "\n";
    j << "sysctl " << kOvercommit.string() << " " << *overcommit + 3 << " " << *overcommit + 5 << "\n";  // does not hold new
    write_journal(journal, j.str());

    Exit cx;
    const std::string out = run_clean(cx);
    ASSERT_TRUE(cx.finished && cx.exited && cx.code == 0) << "ilk clean: " << cx.describe() << "\n" << out;
    EXPECT_TRUE(journal_files(state_).empty()) << "the stale journal was not processed:\n" << out;
    EXPECT_FALSE(contains(out, "killed process")) << out;
    EXPECT_FALSE(contains(out, "restored")) << out;
    EXPECT_TRUE(alive_as(sleeper, st->start)) << "ilk clean killed a process that is not its own";
    const auto segments = sysv_segments();
    EXPECT_TRUE(std::any_of(segments.begin(), segments.end(), [&](const ShmSegment& s) { return s.shmid == shmid && s.key == key; }))
        << "ilk clean removed a segment that is not its own (key 0x" << std::hex << key << ")";
    if (sysctl_comparable()) {
        EXPECT_EQ(read_long(kOvercommit), overcommit) << "ilk clean wrote a value that had changed since";
    }

    kill(sleeper, SIGKILL);
    waitpid(sleeper, nullptr, 0);
    EXPECT_EQ(shmctl(shmid, IPC_RMID, nullptr), 0) << std::strerror(errno);
    own_shmids_.clear();
}

}  // namespace
