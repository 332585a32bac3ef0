#include "cleanup_fixture.h"

#include <signal.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>

namespace ilk_test {

void CleanupTest::SetUp() {
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0) << std::strerror(errno);
    std::string tmpl = (fs::temp_directory_path() / "ilk-cleanup-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    root_ = tmpl;
    target_ = root_ / "target";
    state_ = root_ / "state";
    out_ = root_ / "out";
    for (const fs::path& d : {target_, state_, out_}) fs::create_directory(d);
    fs::permissions(state_, fs::perms::owner_all);  // the kit trusts no other state directory
    marker_ = out_ / "hangs";
    sysctl_before_ = read_long(kOvercommit);
    others_.look();
    started_ = time(nullptr);
}

bool CleanupTest::sysctl_comparable() {
    others_.look();
    if (others_.seen())
        std::cout << "note: " << kOvercommit << " not compared: other kits ran meanwhile and may have changed it: "
                  << others_.describe() << "\n";
    return !others_.seen();
}

std::vector<std::string> CleanupTest::plugin_args() const {
    return {ILK_BINARY, "--plugin-dir", ILK_PLUGIN_OUTPUT_DIR, "--plugin-dir", ILK_CLEANUP_FAKE_DIR};
}

std::vector<std::pair<std::string, std::string>> CleanupTest::env(long hang_seconds, const std::string& hang_in) const {
    return {{"ILK_STATE_DIR", state_.string()},
            {"ILK_SLOW_COUNT_SECONDS", std::to_string(hang_seconds)},
            {"ILK_SLOW_COUNT_MARKER", marker_.string()},
            {"ILK_SLOW_COUNT_HANG_IN", hang_in}};
}

pid_t CleanupTest::start_probe(const std::string& name, long hang_seconds, const std::string& hang_in) {
    report_ = out_ / (name + ".json");
    std::vector<std::string> argv = plugin_args();
    for (const char* a : {"probe", "--target", target_.c_str(), "--format", "json", "--output", report_.c_str()})
        argv.emplace_back(a);
    const pid_t pid = spawn(argv, env(hang_seconds, hang_in), out_ / (name + ".out"), out_ / (name + ".err"));
    if (pid > 0) ilk_pids_.push_back(pid);
    last_err_ = out_ / (name + ".err");
    return pid;
}

std::string CleanupTest::run_clean(Exit& x, bool with_fake) {
    std::vector<std::string> argv = plugin_args();
    if (!with_fake) argv.resize(3);  // the real plugins only
    argv.emplace_back("clean");
    const pid_t pid = spawn(argv, env(60), out_ / "clean.out", out_ / "clean.err");
    ilk_pids_.push_back(pid);
    x = wait_for(pid, kCleanTimeout);
    return read_text(out_ / "clean.out") + read_text(out_ / "clean.err");
}

void CleanupTest::watch(pid_t ilk) {
    record_journal_lines();
    others_.look();
    for (const ProcStat& p : descendants_of(ilk)) seen_procs_.insert({p.pid, p.start});
}

void CleanupTest::record_journal_lines() {
    for (const fs::path& j : journal_files(state_))
        for (const std::string& line : read_lines(j))
            if (seen_set_.insert(line).second) seen_lines_.push_back(line);
}

bool CleanupTest::wait_for_hangs(pid_t ilk, size_t n) {
    return eventually([&] { return read_lines(marker_).size() >= n || waitpid(ilk, nullptr, WNOHANG) != 0; },
                      kHangTimeout, [&] { watch(ilk); }) &&
           read_lines(marker_).size() >= n;
}

Leftovers CleanupTest::find_leftovers() {
    record_journal_lines();
    Leftovers l;
    const auto files = journal_files(state_);
    if (files.size() == 1) l.journal = files[0];
    l.view = parse_journal(read_lines(l.journal));
    for (const ShmSegment& s : sysv_segments())
        for (const auto& j : l.view.segments)
            if (s.key == j.key && s.cpid == j.creator) l.segments.push_back(s);
    for (const auto& p : l.view.procs)
        if (alive_as(p.pid, p.start)) l.live_procs.push_back(p);
    for (const fs::path& m : l.view.mounts)
        if (is_mount_point(m)) l.mounts.push_back(m);
    for (const auto& s : l.view.sysctls)
        if (read_long(s.path) == std::stol(s.new_value)) l.changed.push_back(s);
    for (const auto& s : l.view.sysctl_adds)
        if (sysctl_before_ && read_long(s.path) > *sysctl_before_) l.raised.push_back(s);
    for (const std::string& line : read_lines(marker_)) {
        const pid_t pid = static_cast<pid_t>(std::stol(line));
        for (const auto& p : l.live_procs)
            if (p.pid == pid) l.hanging.push_back(pid);
    }
    return l;
}

void CleanupTest::assert_real_leftovers(const Leftovers& l) {
    std::cout << describe(l);
    ASSERT_FALSE(l.journal.empty()) << "expected exactly one journal in " << state_;
    // The run's own scratch (in TMPDIR) and the one in the target directory.
    ASSERT_EQ(l.view.scratch.size(), 2u) << l.journal;
    for (const fs::path& s : l.view.scratch) ASSERT_TRUE(fs::is_directory(s)) << "a scratch directory is not there: " << s;
    const bool slow_segment = std::any_of(l.segments.begin(), l.segments.end(), [&](const ShmSegment& s) {
        return std::any_of(l.view.segments.begin(), l.view.segments.end(),
                           [&](const auto& j) { return j.primitive == "slow-count" && j.key == s.key; });
    });
    ASSERT_TRUE(slow_segment) << "no journaled slow-count segment is present in /proc/sysvipc/shm";
    ASSERT_FALSE(l.hanging.empty()) << "no journaled process is alive (the hanging slow-count counter should be)";
    for (const auto& s : l.changed) ASSERT_EQ(s.path, kOvercommit.string()) << "unexpected sysctl change";
    for (const auto& s : l.raised) ASSERT_EQ(s.path, kOvercommit.string()) << "unexpected sysctl change";
}

void CleanupTest::expect_nothing_left(const std::vector<ShmSegment>& segments_seen) {
    record_journal_lines();
    const JournalView v = seen();
    EXPECT_TRUE(journal_files(state_).empty()) << "a journal is left in " << state_;
    for (const fs::path& s : v.scratch) EXPECT_FALSE(fs::exists(s)) << "scratch directory left: " << s;
    std::error_code ec;
    EXPECT_TRUE(fs::is_empty(target_, ec)) << "something is left in the target " << target_;
    for (const ShmSegment& s : segments_seen)
        EXPECT_TRUE(eventually([&] { return !shmid_exists(s.shmid); }, kSettle))
            << "segment shmid " << s.shmid << " (key " << std::hex << s.key << ") is still there";
    for (const ShmSegment& s : sysv_segments()) {
        if (s.ctime >= started_) {  // older ones are not ours, whatever their key
            for (const pid_t ilk : ilk_pids_)
                EXPECT_FALSE(key_of_run(s.key, ilk)) << "segment key 0x" << std::hex << s.key << " of the run is left";
        }
        for (const auto& j : v.segments)
            EXPECT_FALSE(s.key == j.key && s.cpid == j.creator) << "journaled segment key " << j.key << " is left";
    }
    auto dead = [&] {
        reap_exited_children();
        for (const auto& p : v.procs)
            if (alive_as(p.pid, p.start)) return false;
        for (const auto& [pid, start] : seen_procs_)
            if (alive_as(pid, start)) return false;
        return descendants_of(getpid()).empty();
    };
    EXPECT_TRUE(eventually(dead, kSettle)) << "a process of the run is still alive: " << describe_live(v);
    for (const fs::path& m : mounts_under(root_)) ADD_FAILURE() << "a mount is left: " << m;
    if (sysctl_before_ && sysctl_comparable()) {
        EXPECT_TRUE(eventually([&] { return read_long(kOvercommit) == sysctl_before_; }, kSettle))
            << kOvercommit << " is " << read_long(kOvercommit).value_or(-1) << ", was " << *sysctl_before_;
    }
}

std::string CleanupTest::describe(const Leftovers& l) {
    std::string out = "held by the run: journal " + l.journal.string() + " (" + std::to_string(l.view.lines.size()) + " entries);";
    for (const ShmSegment& s : l.segments) out += " segment shmid " + std::to_string(s.shmid) + " nattch " + std::to_string(s.nattch) + ";";
    for (const auto& p : l.live_procs) out += " process " + std::to_string(p.pid) + ";";
    for (const pid_t p : l.hanging) out += " (hanging " + std::to_string(p) + ")";
    for (const fs::path& m : l.mounts) out += " mount " + m.string() + ";";
    for (const auto& s : l.changed) out += " " + s.path + " " + s.old_value + "->" + s.new_value + ";";
    for (const auto& s : l.raised) out += " " + s.path + " +" + std::to_string(s.delta) + ";";
    return out + "\n";
}

std::string CleanupTest::describe_live(const JournalView& v) const {
    std::string out;
    for (const auto& p : v.procs)
        if (alive_as(p.pid, p.start)) out += "journaled " + std::to_string(p.pid) + "; ";
    for (const ProcStat& p : descendants_of(getpid())) out += "descendant " + std::to_string(p.pid) + "; ";
    return out;
}

json CleanupTest::report() const {
    const std::string text = read_text(report_);
    return text.empty() ? json() : json::parse(text, nullptr, false);
}

void CleanupTest::remove_our_leftovers() {
    for (const pid_t pid : ilk_pids_)
        if (waitpid(pid, nullptr, WNOHANG) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    record_journal_lines();
    const JournalView v = seen();
    for (const auto& p : v.procs)
        if (alive_as(p.pid, p.start)) kill(p.pid, SIGKILL);
    for (const ProcStat& p : descendants_of(getpid())) kill(p.pid, SIGKILL);  // all below us is ours
    eventually([] {
        reap_exited_children();
        return descendants_of(getpid()).empty();
    }, kSettle);
    for (const ShmSegment& s : sysv_segments())
        for (const auto& j : v.segments)
            if (s.key == j.key && s.cpid == j.creator) shmctl(s.shmid, IPC_RMID, nullptr);
    for (const ShmSegment& s : sysv_segments())  // under a run's key, made by a process of the run
        for (const auto& [pid, start] : seen_procs_)
            if (s.cpid == pid && std::any_of(ilk_pids_.begin(), ilk_pids_.end(), [&](pid_t ilk) { return key_of_run(s.key, ilk); }))
                shmctl(s.shmid, IPC_RMID, nullptr);
    for (const int id : own_shmids_) shmctl(id, IPC_RMID, nullptr);
    for (const auto& s : v.sysctls)
        if (read_long(s.path) == std::stol(s.new_value) && s.path == kOvercommit.string())
            std::ofstream(s.path) << s.old_value << '\n';
    if (!v.sysctl_adds.empty() && sysctl_before_ && read_long(kOvercommit) != sysctl_before_ && sysctl_comparable())
        std::ofstream(kOvercommit) << *sysctl_before_ << '\n';
    for (const fs::path& m : mounts_under(root_)) umount2(m.c_str(), MNT_DETACH);
    if (!mounts_under(root_).empty()) {
        ADD_FAILURE() << "could not unmount everything under " << root_ << "; left it in place";
        return;
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
}

}  // namespace ilk_test
