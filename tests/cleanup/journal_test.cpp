// Unit tests of the run journal (harness/src/journal.cpp): entries written
// before a resource is made are undone by finish(), a dead run's journal by
// clean_stale_journals(), a live run's never; trees are removed without
// crossing into other filesystems.
#include <fcntl.h>
#include <linux/loop.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "host_state.h"
#include "journal.h"
#include "registry.h"

namespace {

using namespace std::chrono_literals;
using namespace ilk_test;

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

bool has_line(const std::vector<std::string>& lines, const std::string& want) {
    return std::find(lines.begin(), lines.end(), want) != lines.end();
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& l : lines) out += l + "\n";
    return out;
}

// A child that sleeps until killed (never longer than 5 minutes).
pid_t sleeping_child() {
    const pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close_range(3, ~0U, 0);  // hold no journal fd, as an actor does not
        sleep(300);
        _exit(0);
    }
    return pid;
}

// A run that begins a journal in target, makes a process with `make` (which
// may journal it), and dies without finish(): "crashed". What it made and its
// scratch directory, or made == 0 if the run failed to set up.
struct DeadRun {
    pid_t made = 0;
    std::string scratch;
};
DeadRun run_that_dies(const fs::path& target, const std::function<pid_t(ilk::Journal&)>& make) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return {};
    const pid_t run = fork();
    if (run < 0) return {};
    if (run == 0) {
        close(fds[0]);
        ilk::Journal j = ilk::Journal::begin(target);
        const pid_t made = make(j);
        const std::string msg = std::to_string(made) + " " + j.scratch().string();
        if (made <= 0 || write(fds[1], msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) _exit(1);
        _exit(0);  // no finish(), no destructors
    }
    close(fds[1]);
    char buf[1024] = {};
    const ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    const Exit x = wait_for(run, 5s);
    DeadRun r;
    if (n > 0 && x.exited && x.code == 0) std::istringstream(std::string(buf, static_cast<size_t>(n))) >> r.made >> r.scratch;
    return r;
}

class JournalTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        std::string tmpl = (fs::temp_directory_path() / "ilk-journal-test-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
        root_ = tmpl;
        state_ = root_ / "state";
        target_ = root_ / "target";
        fs::create_directory(target_);
        ASSERT_EQ(setenv("ILK_STATE_DIR", state_.c_str(), 1), 0);
    }

    void TearDown() override {
        for (const ProcStat& p : descendants_of(getpid())) kill(p.pid, SIGKILL);
        eventually([] {
            reap_exited_children();
            return descendants_of(getpid()).empty();
        }, 5s);
        for (const fs::path& m : mounts_under(root_)) umount2(m.c_str(), MNT_DETACH);
        unsetenv("ILK_STATE_DIR");
        if (!mounts_under(root_).empty()) {
            ADD_FAILURE() << "could not unmount everything under " << root_ << "; left it in place";
            return;
        }
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    fs::path root_, state_, target_;
};

TEST_F(JournalTest, RecordThenFinishUndoesEverythingProcessesFirstThenNewestFirst) {
    ilk::Journal j = ilk::Journal::begin(target_);
    EXPECT_EQ(j.file().parent_path(), state_);
    EXPECT_EQ(j.scratch().parent_path(), target_);
    ASSERT_TRUE(fs::is_directory(j.scratch()));
    fs::create_directories(j.scratch() / "a" / "b");
    std::ofstream(j.scratch() / "a" / "b" / "data") << "x";

    const pid_t child = sleeping_child();
    ASSERT_GT(child, 0);
    const unsigned long long start = ilk::process_start_time(child);
    ASSERT_NE(start, 0u);
    const fs::path target_scratch = j.make_scratch(target_, "ilk-target");

    ASSERT_TRUE(j.record("proc", std::to_string(child) + " " + std::to_string(start)));

    const std::vector<std::string> on_disk = read_lines(j.file());
    const std::vector<std::string> want_disk{
        "scratch " + j.scratch().string(),
        "scratch " + target_scratch.string(),
        "proc " + std::to_string(child) + " " + std::to_string(start),
    };
    EXPECT_EQ(on_disk, want_disk);

    const fs::path file = j.file(), scratch = j.scratch();
    const std::vector<std::string> done = j.finish(ilk::Registry{});
    const std::vector<std::string> want_done{
        "killed process " + std::to_string(child),
        "removed " + target_scratch.string(),
        "removed " + scratch.string(),
    };
    EXPECT_EQ(done, want_done);

    const Exit x = wait_for(child, 5s);
    EXPECT_TRUE(x.finished && x.signal == SIGKILL) << "the journaled child: " << x.describe();
    EXPECT_FALSE(fs::exists(file));
    EXPECT_FALSE(fs::exists(scratch));
    EXPECT_FALSE(fs::exists(target_scratch));
}

// The state directory the kit makes, and each journal, are private to the user.
TEST_F(JournalTest, BeginMakesAPrivateStateDirectoryAndJournal) {
    ilk::Journal j = ilk::Journal::begin(target_);
    struct stat dir {}, file {};
    ASSERT_EQ(lstat(state_.c_str(), &dir), 0);
    ASSERT_EQ(lstat(j.file().c_str(), &file), 0);
    EXPECT_EQ(dir.st_mode & 07777, 0700u);
    EXPECT_EQ(dir.st_uid, geteuid());
    EXPECT_EQ(file.st_mode & 07777, 0600u);
    EXPECT_TRUE(S_ISREG(file.st_mode));
    j.finish(ilk::Registry{});
}

// Older kits made the state directory 0755: nobody else could write there, so
// it is made private and used rather than refused.
TEST_F(JournalTest, StateDirOnlyOthersCouldReadIsMadePrivate) {
    fs::create_directories(state_);
    fs::permissions(state_, fs::perms(0755));
    ilk::Journal j = ilk::Journal::begin(target_);
    struct stat dir {};
    ASSERT_EQ(lstat(state_.c_str(), &dir), 0);
    EXPECT_EQ(dir.st_mode & 07777, 0700u);
    j.finish(ilk::Registry{});
}

// An entry that cannot be undone now (its plugin is not loaded) keeps the
// journal, unlocked: the next clean tries again instead of forgetting it.
TEST_F(JournalTest, FinishKeepsTheJournalWhenAnEntryCouldNotBeUndone) {
    ilk::Journal j = ilk::Journal::begin(target_);
    ASSERT_TRUE(j.record("segment", "no-such-primitive 1224736769 4242"));
    const fs::path file = j.file(), scratch = j.scratch();

    const std::vector<std::string> done = j.finish(ilk::Registry{});
    EXPECT_TRUE(has_line(done, "removed " + scratch.string())) << joined(done);
    ASSERT_EQ(done.size(), 3u) << joined(done);
    EXPECT_TRUE(contains(done[1], "could not reclaim 1 no-such-primitive segment(s) (key 1224736769): the no-such-primitive "
                                  "plugin is not loaded; run ilk clean --plugin-dir"))
        << done[1];
    EXPECT_EQ(done[2], "could not undo everything: journal " + file.string() + " is kept for a later ilk clean");
    EXPECT_FALSE(fs::exists(scratch));
    ASSERT_TRUE(fs::exists(file)) << "the journal went with an entry not undone";

    ilk::CleanTally tally;
    const std::vector<std::string> again = ilk::clean_stale_journals(ilk::Registry{}, &tally);
    ASSERT_EQ(again.size(), 2u) << joined(again);
    EXPECT_TRUE(contains(again[0], file.filename().string() + ": could not reclaim 1 no-such-primitive")) << again[0];
    EXPECT_EQ(again[1], file.filename().string() + ": kept for a later ilk clean (1 entry not undone)");
    EXPECT_EQ(tally.undone, 0);
    EXPECT_EQ(tally.left, 1);
    EXPECT_EQ(tally.kept, std::vector<std::string>{file.filename().string()});
    EXPECT_TRUE(fs::exists(file));
}

// A run journals a segment per trial; without its plugin they are one line
// per primitive, not thousands.
TEST_F(JournalTest, SegmentsWithoutTheirPluginAreOneLinePerPrimitive) {
    ilk::Journal j = ilk::Journal::begin(target_);
    for (int i = 0; i < 37; ++i) ASSERT_TRUE(j.record("segment", "slow-count " + std::to_string(0x1c7d0000 + i) + " 4242"));
    ASSERT_TRUE(j.record("segment", "other-kind 7 4242"));
    const std::vector<std::string> done = j.finish(ilk::Registry{});
    size_t reclaim_lines = 0;
    for (const std::string& line : done) reclaim_lines += contains(line, "could not reclaim");
    EXPECT_EQ(reclaim_lines, 2u) << joined(done);
    EXPECT_TRUE(std::any_of(done.begin(), done.end(), [](const std::string& l) { return contains(l, "could not reclaim 37 slow-count"); }))
        << joined(done);
}

TEST_F(JournalTest, LiveJournalIsLeftAlone) {
    ilk::Journal j = ilk::Journal::begin(target_);  // holds its flock, as a running ilk does
    const pid_t child = sleeping_child();
    ASSERT_GT(child, 0);
    const unsigned long long start = ilk::process_start_time(child);
    ASSERT_TRUE(j.record("proc", std::to_string(child) + " " + std::to_string(start)));

    ilk::CleanTally tally;
    const std::vector<std::string> done = ilk::clean_stale_journals(ilk::Registry{}, &tally);
    EXPECT_TRUE(done.empty()) << joined(done);
    EXPECT_EQ(tally.live, 1);
    EXPECT_TRUE(fs::exists(j.file()));
    EXPECT_TRUE(fs::is_directory(j.scratch()));
    EXPECT_TRUE(alive_as(child, start));

    j.finish(ilk::Registry{});
    EXPECT_TRUE(eventually([&] {
        reap_exited_children();
        return !alive_as(child, start);
    }, 5s));
}

// A run that died without finish(): its orphan and its scratch directory are
// undone by the next clean, and its journal removed. (Its sysctl change:
// sysctl_overlap_test.cpp.)
TEST_F(JournalTest, StaleJournalOfADeadRunIsUndone) {
    const DeadRun run = run_that_dies(target_, [](ilk::Journal& j) -> pid_t {
        int exec_done[2];
        if (pipe2(exec_done, O_CLOEXEC) != 0) return -1;
        const pid_t orphan = fork();
        if (orphan == 0) {  // exec drops the journal's fd (O_CLOEXEC), as an actor closes it
            execlp("sleep", "sleep", "300", static_cast<char*>(nullptr));
            _exit(127);
        }
        close(exec_done[1]);
        char c;
        if (read(exec_done[0], &c, 1) != 0) return -1;  // EOF: the orphan has exec'd
        return j.record("proc", std::to_string(orphan) + " " + std::to_string(ilk::process_start_time(orphan))) ? orphan : -1;
    });
    ASSERT_GT(run.made, 0) << "the dying run failed to set up";
    const pid_t orphan = run.made;
    const std::string& scratch = run.scratch;
    const auto orphan_stat = proc_stat(orphan);
    ASSERT_TRUE(orphan_stat.has_value());

    const auto journals = journal_files(state_);
    ASSERT_EQ(journals.size(), 1u);
    ASSERT_TRUE(fs::is_directory(scratch));

    const std::vector<std::string> done = ilk::clean_stale_journals(ilk::Registry{});
    const std::string prefix = journals[0].filename().string() + ": ";
    EXPECT_TRUE(has_line(done, prefix + "killed process " + std::to_string(orphan))) << joined(done);
    EXPECT_TRUE(has_line(done, prefix + "removed " + scratch)) << joined(done);
    EXPECT_TRUE(journal_files(state_).empty());
    EXPECT_FALSE(fs::exists(scratch));
    EXPECT_TRUE(eventually([&] {
        reap_exited_children();
        return !alive_as(orphan, orphan_stat->start);
    }, 5s));
}

// A SIGKILLed run's forked workers (no exec: they keep the journal's locked
// fd) outlive it by a moment; an `ilk clean` at once waits for them to let go,
// then undoes the journal, instead of calling the run still going.
TEST_F(JournalTest, AJournalHeldOnlyByItsDeadRunsWorkerIsUndoneOnceItLetsGo) {
    const DeadRun run = run_that_dies(target_, [](ilk::Journal&) -> pid_t {
        const pid_t worker = fork();
        if (worker == 0) {  // holds the journal's fd, and its lock, for 1.5 s more
            usleep(1'500'000);
            _exit(0);
        }
        return worker;
    });
    ASSERT_GT(run.made, 0) << "the dying run failed to set up";
    const pid_t worker = run.made;
    const std::string& scratch = run.scratch;
    ASSERT_TRUE(proc_stat(worker).has_value()) << "the worker should still hold the journal";

    const auto t0 = std::chrono::steady_clock::now();
    ilk::CleanTally tally;
    const std::vector<std::string> done = ilk::clean_stale_journals(ilk::Registry{}, &tally);
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(tally.live, 0) << "the dead run's journal was called live: " << joined(done);
    EXPECT_TRUE(journal_files(state_).empty());
    EXPECT_FALSE(fs::exists(scratch)) << joined(done);
    EXPECT_GE(waited, 500ms) << "the journal was taken while the worker held it";
    EXPECT_TRUE(eventually([&] {
        reap_exited_children();
        return !proc_stat(worker).has_value();
    }, 5s));
}

// A journaled process's children that the journal never named (a server's
// backend forked after the kit's last line) are killed with it, whoever their
// parent is by then; nothing else is. None of them dies with its parent by
// itself (no PR_SET_PDEATHSIG), so only the journal can end them.
TEST_F(JournalTest, AJournaledProcessIsKilledWithWhatItMadeAndNothingElse) {
    ilk::Journal j = ilk::Journal::begin(target_);
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    const pid_t parent = fork();
    ASSERT_GE(parent, 0);
    if (parent == 0) {  // a server: one child, which has a child of its own
        if (dup2(fds[1], 3) != 3) _exit(1);
        close_range(4, ~0U, 0);  // hold no journal fd, as a server does not
        const pid_t child = fork();
        if (child == 0) {
            const pid_t grandchild = fork();
            if (grandchild == 0) {
                sleep(300);
                _exit(0);
            }
            const std::string msg = std::to_string(getpid()) + " " + std::to_string(grandchild) + "\n";
            if (write(3, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) _exit(1);
            sleep(300);
            _exit(0);
        }
        sleep(300);
        _exit(0);
    }
    close(fds[1]);
    char buf[64] = {};
    ASSERT_GT(read(fds[0], buf, sizeof buf - 1), 0);
    close(fds[0]);
    pid_t child = 0, grandchild = 0;
    std::istringstream(buf) >> child >> grandchild;
    const pid_t bystander = sleeping_child();  // not journaled, not made by a journaled process
    const unsigned long long parent_start = ilk::process_start_time(parent), child_start = ilk::process_start_time(child),
                             grandchild_start = ilk::process_start_time(grandchild), bystander_start = ilk::process_start_time(bystander);
    ASSERT_TRUE(parent_start && child_start && grandchild_start && bystander_start);
    ASSERT_TRUE(j.record("proc", std::to_string(parent) + " " + std::to_string(parent_start)));

    const std::vector<std::string> done = j.finish(ilk::Registry{});
    EXPECT_TRUE(has_line(done, "killed process " + std::to_string(parent) + " and 2 it made (" + std::to_string(child) + ", " +
                                   std::to_string(grandchild) + ")"))
        << joined(done);
    EXPECT_TRUE(eventually([&] {
        reap_exited_children();
        return !alive_as(parent, parent_start) && !alive_as(child, child_start) && !alive_as(grandchild, grandchild_start);
    }, 5s)) << "still alive: the server " << alive_as(parent, parent_start) << ", its child " << alive_as(child, child_start)
            << ", its grandchild " << alive_as(grandchild, grandchild_start);
    EXPECT_TRUE(alive_as(bystander, bystander_start)) << "a process the journal did not lead to was killed";
    const auto st = ilk::read_proc_stat(bystander);
    EXPECT_TRUE(st && st->state != 'T') << "a process the journal did not lead to was left stopped";
}

// Runs start while another process cleans: a journal must never be taken for
// a dead run's between its creation and its lock, or the run would record into
// a deleted file and leave everything behind.
TEST_F(JournalTest, AConcurrentCleanNeverTakesAJournalBeingBegun) {
    // Keep the state directory from being removed when empty: that is another
    // race (begin retries it), not the one this test is about.
    fs::create_directories(state_);
    fs::permissions(state_, fs::perms::owner_all);
    std::ofstream(state_ / "keep") << "not a journal\n";
    const pid_t cleaner = fork();
    ASSERT_GE(cleaner, 0);
    if (cleaner == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) ilk::clean_stale_journals(ilk::Registry{});
    }
    int runs = 0, lost = 0;
    std::vector<std::string> errors;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < deadline) {
        ++runs;
        try {
            ilk::Journal j = ilk::Journal::begin(target_);
            if (!fs::exists(j.file()) || !fs::is_directory(j.scratch())) ++lost;
            j.finish(ilk::Registry{});
        } catch (const std::exception& e) {
            if (errors.size() < 5) errors.emplace_back(e.what());
        }
    }
    kill(cleaner, SIGKILL);
    EXPECT_TRUE(wait_for(cleaner, 5s).finished);
    EXPECT_EQ(lost, 0) << "journals deleted by a concurrent clean while their run was starting, of " << runs;
    EXPECT_TRUE(errors.empty()) << "runs that could not start beside a concurrent clean, e.g.:\n" << joined(errors);
    std::cout << runs << " runs began beside a cleaner\n";
}

TEST_F(JournalTest, RemoveTreeSameFsRemovesATreeButNotWhatSymlinksPointTo) {
    const fs::path tree = root_ / "tree", outside = root_ / "outside";
    fs::create_directories(tree / "a" / "b");
    std::ofstream(tree / "a" / "b" / "file") << "x";
    std::ofstream(outside) << "keep";
    fs::create_symlink(outside, tree / "a" / "link");
    fs::create_directory_symlink(root_, tree / "a" / "dirlink");
    std::string error;
    EXPECT_TRUE(ilk::remove_tree_same_fs(tree, &error)) << error;
    EXPECT_FALSE(fs::exists(tree));
    EXPECT_TRUE(fs::exists(outside));
    EXPECT_TRUE(fs::is_directory(state_.parent_path()));
}

TEST_F(JournalTest, RemoveTreeSameFsDoesNotDescendIntoAMountInside) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs inside the tree";
    const fs::path tree = root_ / "tree", mnt = tree / "a" / "mnt";
    fs::create_directories(mnt);
    std::ofstream(tree / "a" / "file") << "x";
    if (mount("ilk-test-tmpfs", mnt.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700") != 0)
        GTEST_SKIP() << "cannot mount a tmpfs at " << mnt << ": " << std::strerror(errno);
    std::ofstream(mnt / "keep") << "not the tree's";
    fs::create_directory(mnt / "sub");

    std::string error;
    EXPECT_FALSE(ilk::remove_tree_same_fs(tree, &error)) << "reported success with a mount left inside";
    EXPECT_FALSE(error.empty());
    EXPECT_TRUE(fs::exists(mnt / "keep")) << "descended into the tmpfs mounted inside the tree";
    EXPECT_TRUE(fs::is_directory(mnt / "sub"));
    EXPECT_FALSE(fs::exists(tree / "a" / "file")) << "the tree's own files should be gone";

    ASSERT_EQ(umount2(mnt.c_str(), 0), 0) << std::strerror(errno);
    EXPECT_TRUE(ilk::remove_tree_same_fs(tree, &error)) << error;
    EXPECT_FALSE(fs::exists(tree));
}

// Where /sys is not mounted (a chroot, a container), the run's loop device is
// found by its image's device and inode and detached; before, the lookup in
// /sys/block found nothing and the device was left attached without a word
// (seen installing the package into a fresh Debian 12 root). In a child with
// its own mount namespace and an empty tmpfs over /sys.
TEST_F(JournalTest, ALoopDeviceIsDetachedWhereSysIsNotMounted) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: a mount namespace and a loop device";
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(fds[0]);
        auto say = [&](const std::string& m) {
            if (write(fds[1], m.data(), m.size()) < 0) _exit(3);
        };
        if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            mount("ilk-no-sys", "/sys", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0) {
            say(std::string("SKIP cannot hide /sys: ") + std::strerror(errno));
            _exit(0);
        }
        ilk::Journal j = ilk::Journal::begin(target_);
        const fs::path image = j.scratch() / "loop.img";  // a run's image is in its scratch directory
        std::error_code ec;
        std::ofstream(image).close();
        fs::resize_file(image, 1 << 20, ec);
        if (ec || !j.record("loop", image.string())) _exit(2);
        const int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC), img = open(image.c_str(), O_RDWR | O_CLOEXEC);
        const int n = control < 0 ? -1 : ioctl(control, LOOP_CTL_GET_FREE);
        const std::string node = "/dev/loop" + std::to_string(n);
        const int dev = n < 0 ? -1 : open(node.c_str(), O_RDWR | O_CLOEXEC);
        loop_config cfg{};
        cfg.fd = static_cast<__u32>(img);
        if (img < 0 || dev < 0 || ioctl(dev, LOOP_CONFIGURE, &cfg) != 0) {
            say(std::string("SKIP cannot attach a loop device: ") + std::strerror(errno));
            _exit(0);
        }
        close(dev);
        say(node + " " + image.string() + "\n");
        std::string lines;
        for (const std::string& l : j.finish(ilk::Registry{})) lines += l + "\n";
        say(lines);
        _exit(0);
    }
    close(fds[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    const Exit x = wait_for(child, 10s);
    ASSERT_TRUE(x.exited && x.code == 0) << x.describe() << "\n" << out;
    if (out.rfind("SKIP", 0) == 0) GTEST_SKIP() << out;
    std::string node, image;
    std::istringstream(out.substr(0, out.find('\n'))) >> node >> image;
    // Seen from here, where /sys is mounted: the device backs nothing of ours.
    std::string backing;
    std::getline(std::ifstream("/sys/block/" + fs::path(node).filename().string() + "/loop/backing_file"), backing);
    if (backing == image || backing == image + " (deleted)") {  // leaked: detach it, so the host stays clean, and fail
        const int fd = open(node.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) ioctl(fd, LOOP_CLR_FD, 0), close(fd);
        ADD_FAILURE() << node << " was left attached to " << image << "; the journal said:\n" << out;
    }
    EXPECT_TRUE(contains(out, "detached " + node + " (" + image + ")")) << out;
}

}  // namespace
