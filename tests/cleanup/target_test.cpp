// Kit-made targets: each is set up as asked (the filesystem type it really
// got is checked in /proc, not taken from the kit), probed, and torn down;
// a missing tool makes it UNSUPPORTED with the package; SIGKILL and Ctrl-C
// in the middle of a run leave nothing that the next `ilk clean` does not
// remove. The witnesses are /proc/self/mounts, /sys/block/loop*, /proc.
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host_state.h"

namespace ilk_test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Loop devices whose backing file is below dir.
std::vector<std::string> loops_backed_under(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& dev : fs::directory_iterator("/sys/block", ec)) {
        std::ifstream in(dev.path() / "loop" / "backing_file");
        std::string file;
        if (std::getline(in, file) && file.rfind(dir.string(), 0) == 0) out.push_back(dev.path().filename().string() + " " + file);
    }
    return out;
}

// Processes whose command line mentions dir (a bindfs daemon serving a mount
// there) or that hold a file below it open (everything the test's ilk started
// inherits its stdout and stderr, which are files below dir).
std::vector<std::string> processes_mentioning(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        const std::string name = p.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos || std::stoi(name) == getpid()) continue;
        std::string cmd = read_text(p.path() / "cmdline");
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        bool holds = cmd.find(dir.string()) != std::string::npos;
        std::error_code fd_ec;
        for (const auto& fd : fs::directory_iterator(p.path() / "fd", fd_ec)) {
            std::error_code link_ec;
            if (fs::read_symlink(fd.path(), link_ec).string().rfind(dir.string(), 0) == 0) holds = true;
        }
        if (holds) out.push_back(name + ": " + cmd);
    }
    return out;
}

class TargetTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ilk-target-test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        fs::permissions(root_, fs::perms(0755));
        tmp_ = root_ / "tmp";
        state_ = root_ / "state";
        fs::create_directories(tmp_);
        fs::permissions(tmp_, fs::perms(0755));
    }

    void TearDown() override {
        // Whatever a failed test left: unmount (deepest first) and detach only what is below our root.
        for (const fs::path& m : mounts_under(root_)) umount2(m.c_str(), MNT_DETACH);
        for (const std::string& l : loops_backed_under(root_)) {
            const std::string dev = "/dev/" + l.substr(0, l.find(' '));
            const pid_t p = spawn({"/usr/sbin/losetup", "-d", dev}, {}, "/dev/null", "/dev/null");
            wait_for(p, 10s);
        }
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    std::vector<std::pair<std::string, std::string>> env(std::vector<std::pair<std::string, std::string>> extra = {}) const {
        extra.emplace_back("ILK_STATE_DIR", state_.string());
        extra.emplace_back("TMPDIR", tmp_.string());
        return extra;
    }

    Exit run(const std::vector<std::string>& args, std::chrono::seconds timeout = 300s,
             std::vector<std::pair<std::string, std::string>> extra = {}) {
        std::vector<std::string> argv{ILK_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        const pid_t pid = spawn(argv, env(std::move(extra)), root_ / "out", root_ / "err");
        const Exit e = wait_for(pid, timeout);
        if (!e.finished) kill(pid, SIGKILL);
        return e;
    }

    std::string out() const { return read_text(root_ / "out"); }
    std::string err() const { return read_text(root_ / "err"); }

    void expect_nothing_left() {
        EXPECT_EQ(mounts_under(root_).size(), 0u) << "mounts left below " << root_;
        EXPECT_EQ(loops_backed_under(root_).size(), 0u) << "loop devices left";
        const auto procs = processes_mentioning(root_);
        EXPECT_TRUE(procs.empty()) << procs.front();
        std::error_code ec;
        EXPECT_TRUE(fs::is_empty(tmp_, ec)) << "something left in " << tmp_;
        EXPECT_TRUE(journal_files(state_).empty()) << "journal left in " << state_;
    }

    fs::path root_, tmp_, state_;
};

#define SKIP_UNLESS_ROOT() \
    if (geteuid() != 0) GTEST_SKIP() << "kit-made targets are mounted by the kit, which needs root"

struct KitTarget {
    const char* name;
    const char* fstype;  // as /proc/self/mounts names it
};

class KitTargetTest : public TargetTest, public ::testing::WithParamInterface<KitTarget> {};

TEST_P(KitTargetTest, IsSetUpAsAskedProbedAndTornDown) {
    SKIP_UNLESS_ROOT();
    const KitTarget k = GetParam();
    const fs::path report = root_ / "probe.json";
    const Exit e = run({"probe", "--target", k.name, "--format", "json", "--output", report.string()});
    ASSERT_TRUE(e.exited && e.code == 0) << e.describe() << "\n" << err();
    const json r = json::parse(std::ifstream(report));
    if (r["target"].contains("unsupported")) {
        // Only a missing tool may excuse a target here, and then the package is named.
        const std::string why = r["target"]["unsupported"];
        ASSERT_NE(why.find("apt-get install"), std::string::npos) << why;
        GTEST_SKIP() << why;
    }
    EXPECT_EQ(r["target"]["fstype"], k.fstype) << r["target"].dump();
    EXPECT_EQ(r["target"]["name"], k.name);
    EXPECT_TRUE(r["target"].contains("requested")) << r["target"].dump();
    EXPECT_EQ(r["target"]["path"].get<std::string>().rfind(tmp_.string(), 0), 0u) << "not in the scratch of TMPDIR";
    if (std::string(k.name) == "hugetlbfs") {
        EXPECT_TRUE(r["facts"]["segments.hugetlbfs.supported"]["measured"].get<bool>()) << r["facts"].dump();
        EXPECT_FALSE(r["facts"].contains("locks.flock.excludes_other_process")) << "segments-only target probed locks";
    } else {
        const json& f = r["facts"]["locks.flock.excludes_other_process"];
        EXPECT_TRUE(f["measured"].get<bool>()) << f.dump();
    }
    // Only overlayfs has a lower layer: its pre-existing files are locked across copy-up.
    if (std::string(k.name) == "overlayfs") {
        const json& f = r["facts"]["locks.flock.excludes_across_copy_up"];
        EXPECT_TRUE(f["measured"].get<bool>()) << f.dump();
        EXPECT_EQ(f["evidence"]["steps"][0]["did"].get<std::string>().find("flock lock on"), 0u) << f.dump();
    } else {
        EXPECT_FALSE(r["facts"].contains("locks.flock.excludes_across_copy_up")) << "copy-up measured without a lower layer";
    }
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Each, KitTargetTest,
                         ::testing::Values(KitTarget{"tmpfs", "tmpfs"}, KitTarget{"ext4", "ext4"}, KitTarget{"xfs", "xfs"},
                                           KitTarget{"btrfs", "btrfs"}, KitTarget{"overlayfs", "overlay"},
                                           KitTarget{"fuse", "fuse"}, KitTarget{"fuse-lockfwd", "fuse"},
                                           KitTarget{"hugetlbfs", "hugetlbfs"}),
                         [](const auto& info) {
                             std::string n = info.param.name;
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

TEST_F(TargetTest, MissingToolIsUnsupportedWithItsPackage) {
    SKIP_UNLESS_ROOT();
    const Exit e = run({"run", "--target", "xfs", "--target", "fuse", "--strategy", "lifetime-flock", "--scenario", "clean-restart",
                        "--format", "json", "--output", (root_ / "r.json").string(), "--report-dir", (root_ / "report").string(), "-q"},
                       120s, {{"ILK_TOOL_PATH", (root_ / "no-tools").string()}});
    ASSERT_TRUE(e.exited && e.code == 0) << e.describe() << "\n" << err();
    const json r = json::parse(std::ifstream(root_ / "r.json"));
    ASSERT_EQ(r["targets"].size(), 2u);
    EXPECT_EQ(r["targets"][0]["unsupported"], "mkfs.xfs is not installed: apt-get install xfsprogs");
    EXPECT_EQ(r["targets"][1]["unsupported"], "bindfs is not installed: apt-get install bindfs");
    EXPECT_TRUE(r["targets"][0]["cells"].empty());
    expect_nothing_left();
}

TEST_F(TargetTest, UnknownTargetGetsDidYouMean) {
    const Exit e = run({"run", "--target", "ext5"}, 30s);
    EXPECT_TRUE(e.exited && e.code == 2) << e.describe();
    EXPECT_NE(err().find("no target named 'ext5' (did you mean 'ext4'?)"), std::string::npos) << err();
    const Exit p = run({"probe", "--target", (root_ / "nowhere").string()}, 30s);
    EXPECT_TRUE(p.exited && p.code == 2) << p.describe();
    EXPECT_NE(err().find("does not exist: create it or name another --target"), std::string::npos) << err();
    expect_nothing_left();
}

TEST_F(TargetTest, ReadOnlyTargetIsRefused) {
    SKIP_UNLESS_ROOT();
    const fs::path ro = root_ / "ro";
    fs::create_directories(ro);
    ASSERT_EQ(mount("ilk-test-ro", ro.c_str(), "tmpfs", MS_RDONLY, nullptr), 0) << std::strerror(errno);
    const Exit e = run({"run", "--target", ro.string()}, 30s);
    umount2(ro.c_str(), MNT_DETACH);
    EXPECT_TRUE(e.exited && e.code == 2) << e.describe();
    EXPECT_NE(err().find("is on a read-only mount: remount it read-write or name another --target"), std::string::npos) << err();
}

TEST_F(TargetTest, UnwritableReportKeepsTheResults) {
    // A report directory that cannot be made, and an --output that cannot be written.
    const Exit e = run({"run", "--target", tmp_.string(), "--strategy", "lifetime-flock", "--scenario", "clean-restart",
                        "--report-dir", "/proc/ilk-report", "--output", "/proc/ilk-report.txt", "-q"},
                       120s);
    EXPECT_TRUE(e.exited && e.code == 1) << e.describe();
    const std::string text = err();
    const std::string marker = "the report goes to ";
    const size_t at = text.find(marker);
    ASSERT_NE(at, std::string::npos) << text;
    const fs::path fallback = text.substr(at + marker.size(), text.find(' ', at + marker.size()) - at - marker.size());
    EXPECT_TRUE(fs::exists(fallback / "report.json")) << fallback;
    EXPECT_NE(text.find("the results are kept in " + (fallback / "report.json").string()), std::string::npos) << text;
    EXPECT_NE(out().find("lifetime-flock"), std::string::npos) << "the report did not reach standard output instead";
    fs::remove_all(fallback);
}

// A worker that dies (a crash of the kit on one target) makes that target's
// cells ERROR with the cause; the other targets run on, and nothing is left.
TEST_F(TargetTest, DeadWorkerIsThatTargetsErrorAndTheRunGoesOn) {
    const fs::path first = root_ / "first", second = root_ / "second";
    fs::create_directories(first);
    fs::create_directories(second);
    fs::permissions(first, fs::perms(0755));
    fs::permissions(second, fs::perms(0755));
    const std::vector<std::string> argv{ILK_BINARY, "run", "--target", first.string(), "--target", second.string(), "--jobs", "1",
                                        "--strategy", "legacy-pid", "--scenario", "concurrent-start", "--schedule", "random",
                                        "--trials", "200", "--format", "json", "--output", (root_ / "r.json").string(),
                                        "--report-dir", (root_ / "report").string(), "-q"};
    const pid_t pid = spawn(argv, env(), root_ / "out", root_ / "err");
    // The worker is the child of ilk whose own child is a zygote (ilk's other
    // children, sandboxed plugin hooks, are short-lived copies of it too).
    pid_t worker = 0;
    const bool found = eventually([&] {
        const std::vector<ProcStat> all = descendants_of(pid);
        for (const ProcStat& p : all) {
            const std::string cmd = read_text(fs::path("/proc") / std::to_string(p.pid) / "cmdline");
            if (cmd.find("--zygote") == std::string::npos) continue;
            for (const ProcStat& q : all)
                if (q.pid == p.ppid && q.ppid == pid) worker = q.pid;
        }
        return worker != 0;
    }, 30s);
    if (!found) kill(pid, SIGKILL);
    ASSERT_TRUE(found) << "no worker appeared\n" << err();
    ASSERT_EQ(kill(worker, SIGKILL), 0);
    const Exit e = wait_for(pid, 300s);
    if (!e.finished) kill(pid, SIGKILL);
    ASSERT_TRUE(e.exited && e.code == 1) << e.describe() << "\n" << err();  // an ERROR cell: the kit failed there
    const json r = json::parse(std::ifstream(root_ / "r.json"));
    ASSERT_EQ(r["targets"].size(), 2u) << r.dump();
    const json& dead = r["targets"][0]["cells"][0];
    EXPECT_EQ(dead["verdict"], "ERROR") << dead.dump();
    EXPECT_NE(dead["reason"].get<std::string>().find("ended without a result (killed by signal 9)"), std::string::npos) << dead.dump();
    const json& alive = r["targets"][1]["cells"][0];
    EXPECT_NE(alive["verdict"], "ERROR") << alive.dump();
    EXPECT_GT(alive["scenarios"][0]["schedules"].get<int>(), 0) << "the second target did not run its trials";
    EXPECT_TRUE(eventually([&] { return processes_mentioning(root_).empty(); }, 10s)) << processes_mentioning(root_).front();
    for (const fs::path& d : {first, second}) {
        std::error_code ec;
        EXPECT_TRUE(fs::is_empty(d, ec)) << "scratch left in " << d;
    }
    expect_nothing_left();
}

// One target, two CPUs: its strategies are shared out among two workers. A
// shard that dies costs its own cells only; the report has every cell, in order.
TEST_F(TargetTest, DeadShardIsItsCellsErrorAndTheOtherShardStands) {
    const fs::path dir = root_ / "one";
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms(0755));
    const std::vector<std::string> argv{ILK_BINARY, "run", "--target", dir.string(), "--jobs", "2", "--strategy", "legacy-pid",
                                        "--strategy", "tom-2004", "--scenario", "concurrent-start", "--schedule", "random",
                                        "--trials", "200", "--format", "json", "--output", (root_ / "r.json").string(),
                                        "--report-dir", (root_ / "report").string(), "-q"};
    const pid_t pid = spawn(argv, env(), root_ / "out", root_ / "err");
    std::vector<pid_t> workers;  // children of ilk whose own child is a zygote
    const bool found = eventually([&] {
        workers.clear();
        const std::vector<ProcStat> all = descendants_of(pid);
        for (const ProcStat& p : all) {
            const std::string cmd = read_text(fs::path("/proc") / std::to_string(p.pid) / "cmdline");
            if (cmd.find("--zygote") == std::string::npos) continue;
            for (const ProcStat& q : all)
                if (q.pid == p.ppid && q.ppid == pid) workers.push_back(q.pid);
        }
        return workers.size() == 2;
    }, 30s);
    if (!found) kill(pid, SIGKILL);
    ASSERT_TRUE(found) << "not two workers for one target on --jobs 2\n" << err();
    ASSERT_EQ(kill(workers.back(), SIGKILL), 0);
    const Exit e = wait_for(pid, 300s);
    if (!e.finished) kill(pid, SIGKILL);
    ASSERT_TRUE(e.exited && e.code == 1) << e.describe() << "\n" << err();
    const json r = json::parse(std::ifstream(root_ / "r.json"));
    ASSERT_EQ(r["targets"].size(), 1u) << r.dump();
    const json& cells = r["targets"][0]["cells"];
    ASSERT_EQ(cells.size(), 2u) << cells.dump();
    EXPECT_EQ(cells[0]["strategy"], "legacy-pid");
    EXPECT_EQ(cells[1]["strategy"], "tom-2004");
    int errors = 0;
    for (const json& c : cells) {
        if (c["verdict"] == "ERROR") {
            ++errors;
            EXPECT_NE(c["reason"].get<std::string>().find("ended without a result (killed by signal 9)"), std::string::npos) << c.dump();
        } else {
            EXPECT_GT(c["scenarios"][0]["schedules"].get<int>(), 0) << c.dump();
        }
    }
    EXPECT_EQ(errors, 1) << cells.dump();
    EXPECT_TRUE(eventually([&] { return processes_mentioning(root_).empty(); }, 10s)) << processes_mentioning(root_).front();
    std::error_code ec;
    EXPECT_TRUE(fs::is_empty(dir, ec)) << "scratch left in " << dir;
    expect_nothing_left();
}

// Gated schedules run one process at a time, so their worker (and its
// zygote, whose contenders inherit the mask) keeps to one CPU; free-running
// contenders race, and a race needs every CPU the run may use. Either way,
// Ctrl-C ends the run at its next trial.
TEST_F(TargetTest, StressContendersMayRunOnEveryCpuGatedOnesOnOne) {
    cpu_set_t mine;
    ASSERT_EQ(sched_getaffinity(0, sizeof mine, &mine), 0);
    if (CPU_COUNT(&mine) < 2) GTEST_SKIP() << "one CPU: nothing to tell apart";
    const fs::path dir = root_ / "cpus";
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms(0755));
    for (const std::string schedule : {"stress", "random"}) {
        const std::vector<std::string> argv{ILK_BINARY, "run", "--target", dir.string(), "--strategy", "legacy-pid", "--scenario",
                                            "concurrent-start", "--schedule", schedule, "--trials", "100000", "--no-probe", "--format",
                                            "json", "--output", (root_ / "r.json").string(), "--report-dir", (root_ / "report").string(), "-q"};
        const pid_t pid = spawn(argv, env(), root_ / "out", root_ / "err");
        int cpus = 0;
        const bool found = eventually([&] {
            for (const ProcStat& p : descendants_of(pid)) {
                if (read_text(fs::path("/proc") / std::to_string(p.pid) / "cmdline").find("--zygote") == std::string::npos) continue;
                cpu_set_t set;
                if (sched_getaffinity(p.pid, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
            }
            return cpus > 0;
        }, 30s);
        kill(pid, SIGINT);  // also stops within a trial or two: 100000 trials would take hours
        const Exit e = wait_for(pid, 60s);
        if (!e.finished) kill(pid, SIGKILL);
        ASSERT_TRUE(found) << schedule << ": no zygote appeared\n" << err();
        EXPECT_TRUE(e.finished && e.exited && e.code == 130) << schedule << ": Ctrl-C did not end the run: " << e.describe();
        if (schedule == "stress") EXPECT_EQ(cpus, CPU_COUNT(&mine)) << "free-running contenders kept to fewer CPUs than the run has";
        else EXPECT_EQ(cpus, 1) << "a gated schedule's contenders may wander between CPUs";
    }
    EXPECT_TRUE(eventually([&] { return processes_mentioning(root_).empty(); }, 10s)) << processes_mentioning(root_).front();
    expect_nothing_left();
}

// Target kinds from a plugin (API version 2): listed with the kit's own, set
// up through the plugin, journaled and undone; a plugin's crash, a directory
// outside the scratch directory, a refusal and a missing tool each cost only
// that target, with the cause.
TEST_F(TargetTest, PluginTargetKindsAreSetUpOrContained) {
    const std::vector<std::string> dirs{"--plugin-dir", ILK_FAKE_DIR "/target-kinds", "--plugin-dir", ILK_PLUGIN_OUTPUT_DIR};
    std::vector<std::string> list = dirs;
    list.insert(list.end(), {"list", "targets"});
    const Exit l = run(list, 30s);
    ASSERT_TRUE(l.exited && l.code == 0) << l.describe() << "\n" << err();
    for (const char* name : {"tmpfs", "fake-good", "fake-crash"}) EXPECT_NE(out().find(name), std::string::npos) << out();
    EXPECT_NE(out().find("fake-target-kinds"), std::string::npos) << "the providing plugin is not named\n" << out();

    std::vector<std::string> typo = dirs;
    typo.insert(typo.end(), {"run", "--target", "fake-goo"});
    const Exit t = run(typo, 30s);
    EXPECT_TRUE(t.exited && t.code == 2) << t.describe();
    EXPECT_NE(err().find("(did you mean 'fake-good'?)"), std::string::npos) << err();

    SKIP_UNLESS_ROOT();
    std::vector<std::string> argv = dirs;
    argv.insert(argv.end(), {"run", "--target", "fake-good", "--target", "fake-crash", "--target", "fake-escape", "--target",
                             "fake-refuse", "--target", "fake-needs-tool", "--strategy", "lifetime-flock", "--scenario",
                             "clean-restart", "--format", "json", "--output", (root_ / "r.json").string(), "--report-dir",
                             (root_ / "report").string(), "-q"});
    const Exit e = run(argv, 180s);
    ASSERT_TRUE(e.exited && e.code == 0) << e.describe() << "\n" << err();
    const json r = json::parse(std::ifstream(root_ / "r.json"));
    ASSERT_EQ(r["targets"].size(), 5u) << r.dump();
    const json& good = r["targets"][0];
    EXPECT_EQ(good.value("unsupported", std::string()), "") << good.dump();
    EXPECT_EQ(good["info"]["fstype"], "tmpfs") << good["info"].dump();
    EXPECT_EQ(good["info"]["made_by"], "fake-target-kinds") << good["info"].dump();
    EXPECT_EQ(good["info"]["plugin"], "fake-target-kinds") << good["info"].dump();
    ASSERT_EQ(good["cells"].size(), 1u) << good.dump();
    EXPECT_EQ(good["cells"][0]["verdict"], "SAFE") << good["cells"][0].dump();
    auto why = [&](size_t i) { return r["targets"][i].value("unsupported", std::string()); };
    EXPECT_NE(why(1).find("setup() killed by SIGSEGV"), std::string::npos) << why(1);
    EXPECT_NE(why(2).find("named '/etc' as the target's directory"), std::string::npos) << why(2);
    EXPECT_NE(why(2).find("refused"), std::string::npos) << why(2);
    EXPECT_NE(why(3).find("modprobe fake"), std::string::npos) << why(3);
    EXPECT_EQ(why(4), "ilk-no-such-tool is not installed: apt-get install ilk-fake-package");
    expect_nothing_left();
}

// SIGKILL of the kit while its targets are mounted, then `ilk clean`; and Ctrl-C.
class TargetCrashTest : public TargetTest, public ::testing::WithParamInterface<bool> {};

TEST_P(TargetCrashTest, NothingLeftAfterTheNextClean) {
    SKIP_UNLESS_ROOT();
    const bool ctrl_c = GetParam();
    std::vector<std::string> argv{ILK_BINARY, "run", "--strategy", "legacy-pid", "--scenario", "concurrent-start", "--schedule", "random",
                                  "--trials", "1000000",
                                  "--report-dir", (root_ / "report").string(), "-q"};
    for (const char* t : {"tmpfs", "ext4", "overlayfs", "fuse"}) argv.insert(argv.end(), {"--target", t});
    const pid_t pid = spawn(argv, env(), root_ / "out", root_ / "err");
    // Until its targets are really there: mounts below TMPDIR and a loop device.
    const bool up = eventually([&] { return mounts_under(tmp_).size() >= 5 && !loops_backed_under(tmp_).empty(); }, 60s);
    if (!up) kill(pid, SIGKILL);
    ASSERT_TRUE(up) << "targets never came up\n" << read_text(root_ / "err");
    std::this_thread::sleep_for(1s);  // contenders running on them
    if (ctrl_c) {
        kill(-pid, SIGINT);  // a terminal's Ctrl-C goes to the whole group
        const Exit e = wait_for(pid, 30s);
        EXPECT_TRUE(e.exited && e.code == 130) << e.describe() << "\n" << err();
    } else {
        kill(pid, SIGKILL);
        wait_for(pid, 10s);
        EXPECT_FALSE(mounts_under(tmp_).empty()) << "nothing to clean: the test proves nothing";
        const Exit c = run({"clean"}, 60s);
        EXPECT_TRUE(c.exited && c.code == 0) << c.describe();
        EXPECT_NE(out().find("unmounted"), std::string::npos) << out();
        EXPECT_NE(out().find("detached /dev/loop"), std::string::npos) << out();
    }
    EXPECT_TRUE(eventually([&] { return processes_mentioning(root_).empty(); }, 10s)) << processes_mentioning(root_).front();
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Stop, TargetCrashTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "CtrlC" : "Sigkill"; });

}  // namespace
}  // namespace ilk_test
