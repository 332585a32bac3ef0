// A journal tells the kit what to delete, kill and unmount, so one planted by
// someone else must never be acted on (issue 8: another user's
// /tmp/ilk-<uid> held a journal whose only line named a directory of the
// victim, and `ilk clean` removed it). One test per way in: the state
// directory or a journal not the user's own, open to others, or a symlink;
// and entries of a form the kit never writes. `ilk clean`, `ilk probe` and
// `ilk run` must refuse, name the path and the fix, and touch nothing.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "cleanup_fixture.h"

namespace {

using namespace ilk_test;

constexpr uid_t kOtherUid = 2147483602;   // owns what "someone else" planted; nothing in /etc/passwd
constexpr uid_t kVictimUid = 2147483601;  // the user of the default-location test

#define SKIP_UNLESS_ROOT(why) \
    if (geteuid() != 0) GTEST_SKIP() << "needs root: " << why

class PlantedJournalTest : public CleanupTest {
protected:
    void SetUp() override {
        CleanupTest::SetUp();
        if (HasFatalFailure()) return;
        victim_ = root_ / "victim";
        fs::create_directory(victim_);
        std::ofstream(victim_ / "precious") << "the user's own work\n";
        tmp_ = out_ / "tmp";
        fs::create_directory(tmp_);
        scratch_ = target_ / ("ilk-scratch-" + kRunId);  // of the form the kit makes: it would be removed
        fs::create_directory(scratch_);
        sleeper_ = fork();
        ASSERT_GE(sleeper_, 0);
        if (sleeper_ == 0) {
            execlp("sleep", "sleep", "300", static_cast<char*>(nullptr));
            _exit(127);
        }
        ASSERT_TRUE(eventually([&] { return proc_stat(sleeper_).has_value(); }, 5s));
        sleeper_start_ = proc_stat(sleeper_)->start;
        journal_ = state_ / ("run-" + kRunId + ".journal");
    }

    void TearDown() override {
        if (sleeper_ > 0) {
            kill(sleeper_, SIGKILL);
            waitpid(sleeper_, nullptr, 0);
        }
        CleanupTest::TearDown();
    }

    // A dead run's journal as an attacker would plant it: the victim's
    // directory, plus entries that are genuinely the kit's form (a process and
    // a scratch directory), so "touching nothing" is seen on those too.
    std::string planted_text() const {
        return "scratch " + victim_.string() + "\n" + "scratch " + scratch_.string() + "\n" + "proc " + std::to_string(sleeper_) +
               " " + std::to_string(sleeper_start_) + "\n";
    }

    struct Command {
        const char* name;
        std::vector<std::string> args;
    };

    std::vector<Command> commands() const {
        return {{"clean", {"clean"}},
                {"probe", {"probe", "--target", target_.string(), "--primitive", "flock", "--format", "json", "--output",
                           (out_ / "probe.json").string()}},
                {"run", {"run", "--target", target_.string(), "--strategy", "lifetime-flock", "--scenario", "clean-restart",
                         "--report-dir", (out_ / "report").string(), "--quiet"}}};
    }

    // Each of clean, probe and run exits 1 saying every one of `said`, and
    // nothing the journal names is touched.
    void expect_refused(const fs::path& state_dir, const std::vector<std::string>& said, uid_t as_uid = 0,
                        std::vector<std::pair<std::string, std::string>> env = {}) {
        env.emplace_back("ILK_STATE_DIR", state_dir.string());
        env.emplace_back("TMPDIR", tmp_.string());
        for (const Command& c : commands()) {
            SCOPED_TRACE(std::string("ilk ") + c.name);
            std::vector<std::string> argv = plugin_args();
            argv.insert(argv.end(), c.args.begin(), c.args.end());
            const fs::path out = out_ / (std::string(c.name) + ".out"), err = out_ / (std::string(c.name) + ".err");
            const pid_t pid = spawn(argv, env, out, err, as_uid);
            ilk_pids_.push_back(pid);
            const Exit x = wait_for(pid, 120s);
            const std::string text = read_text(out) + read_text(err);
            EXPECT_TRUE(x.finished && x.exited && x.code == 1) << x.describe() << " (want exit code 1)\n" << text;
            for (const std::string& s : said) EXPECT_TRUE(contains(text, s)) << "want \"" << s << "\" in:\n" << text;
            expect_untouched();
        }
    }

    void expect_untouched() {
        EXPECT_TRUE(fs::exists(victim_ / "precious")) << "the victim's directory was removed";
        EXPECT_TRUE(fs::is_directory(scratch_)) << "a scratch directory named by an untrusted journal was removed";
        EXPECT_TRUE(alive_as(sleeper_, sleeper_start_)) << "a process named by an untrusted journal was killed";
        std::error_code ec;
        EXPECT_TRUE(fs::is_empty(tmp_, ec)) << "the refused run made something in TMPDIR " << tmp_;
    }

    static inline const std::string kRunId = "1-0badc0de";
    fs::path victim_, tmp_, scratch_, journal_;
    pid_t sleeper_ = -1;
    unsigned long long sleeper_start_ = 0;
};

TEST_F(PlantedJournalTest, StateDirOwnedBySomeoneElseIsRefused) {
    SKIP_UNLESS_ROOT("chown the state directory to another uid");
    write_journal(journal_, planted_text());
    ASSERT_EQ(chown(state_.c_str(), kOtherUid, kOtherUid), 0) << std::strerror(errno);
    expect_refused(state_, {"state directory " + state_.string() + " is owned by uid " + std::to_string(kOtherUid) + ", not you",
                            "set ILK_STATE_DIR to a directory of your own"});
    EXPECT_TRUE(fs::exists(journal_));
}

TEST_F(PlantedJournalTest, StateDirWritableByGroupOrOthersIsRefused) {
    write_journal(journal_, planted_text());
    for (const fs::perms mode : {fs::perms(0777), fs::perms(0770), fs::perms(01733)}) {
        fs::permissions(state_, mode);
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
        SCOPED_TRACE(std::string("mode ") + octal);
        expect_refused(state_, {"state directory " + state_.string() + " has mode " + octal, "chmod 700 " + state_.string()});
    }
    EXPECT_TRUE(fs::exists(journal_));
}

TEST_F(PlantedJournalTest, SymlinkedStateDirIsRefused) {
    write_journal(journal_, planted_text());
    const fs::path link = root_ / "state-link";
    fs::create_directory_symlink(state_, link);
    expect_refused(link, {"state directory " + link.string() + " is a symbolic link", "ILK_STATE_DIR"});
    EXPECT_TRUE(fs::exists(journal_));
}

TEST_F(PlantedJournalTest, JournalWritableByGroupOrOthersIsRefused) {
    write_journal(journal_, planted_text());
    for (const fs::perms mode : {fs::perms(0666), fs::perms(0620)}) {
        fs::permissions(journal_, mode);
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
        SCOPED_TRACE(std::string("mode ") + octal);
        expect_refused(state_, {"journal " + journal_.string() + " has mode " + octal, "remove it or chmod 600 it"});
    }
    EXPECT_TRUE(fs::exists(journal_));
}

TEST_F(PlantedJournalTest, SymlinkedJournalIsRefused) {
    const fs::path elsewhere = root_ / "elsewhere.journal";  // the user's own, private: only the link is wrong
    write_journal(elsewhere, planted_text());
    fs::create_symlink(elsewhere, journal_);
    expect_refused(state_, {"journal " + journal_.string() + " is a symbolic link", "remove it"});
    EXPECT_TRUE(fs::is_symlink(journal_));
}

TEST_F(PlantedJournalTest, JournalOwnedBySomeoneElseIsRefused) {
    SKIP_UNLESS_ROOT("chown a journal to another uid");
    write_journal(journal_, planted_text());
    ASSERT_EQ(chown(journal_.c_str(), kOtherUid, kOtherUid), 0) << std::strerror(errno);
    expect_refused(state_, {"journal " + journal_.string() + " is owned by uid " + std::to_string(kOtherUid), "remove it"});
    EXPECT_TRUE(fs::exists(journal_));
}

// The issue's own reproduction: without root and without XDG_RUNTIME_DIR the
// state directory is /tmp/ilk-<uid>, and another user made it first.
TEST_F(PlantedJournalTest, DefaultStateDirMadeByAnotherUserIsRefused) {
    SKIP_UNLESS_ROOT("run the kit as a dedicated uid with another uid's /tmp/ilk-<uid>");
    const fs::path planted_dir = "/tmp/ilk-" + std::to_string(kVictimUid);
    std::error_code ec;
    if (fs::exists(fs::symlink_status(planted_dir, ec))) {
        struct stat st {};
        if (lstat(planted_dir.c_str(), &st) != 0 || (st.st_uid != kVictimUid && st.st_uid != kOtherUid))
            GTEST_SKIP() << planted_dir << " exists and is not a test uid's: left alone";
        fs::remove_all(planted_dir, ec);
    }
    // The victim's files and the test's directories must be reachable by the victim uid.
    fs::permissions(root_, fs::perms(0711));
    for (const fs::path& d : {out_, tmp_, victim_, target_, scratch_})
        ASSERT_EQ(chown(d.c_str(), kVictimUid, kVictimUid), 0) << d << ": " << std::strerror(errno);
    fs::create_directory(planted_dir);
    const struct Cleanup {
        fs::path dir;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup{planted_dir};
    ASSERT_EQ(chown(planted_dir.c_str(), kOtherUid, kOtherUid), 0);
    fs::permissions(planted_dir, fs::perms(0777));
    const fs::path planted = planted_dir / ("run-" + kRunId + ".journal");
    write_journal(planted, "scratch " + victim_.string() + "\n");
    fs::permissions(planted, fs::perms(0666));
    ASSERT_EQ(chown(planted.c_str(), kOtherUid, kOtherUid), 0);

    expect_refused("", {"state directory " + planted_dir.string() + " is owned by uid " + std::to_string(kOtherUid) + ", not you",
                        "set ILK_STATE_DIR to a directory of your own"},
                   kVictimUid, {{"XDG_RUNTIME_DIR", ""}, {"HOME", out_.string()}});
    EXPECT_TRUE(fs::exists(planted));
}

// A journal that is the user's own may still hold lines the kit never writes
// (an older kit's bug, a hand edit, a copy from elsewhere): each is reported
// and left alone, the kit's own entries are undone, and the journal is kept.
TEST_F(PlantedJournalTest, EntriesTheKitNeverMakesAreLeftAlone) {
    const fs::path outside_mount = root_ / "not-a-scratch-mount", dotdot_mount = root_ / "dotdot-victim";
    fs::create_directory(outside_mount);  // empty: an earlier kit removed such a mount point with rmdir
    fs::create_directory(dotdot_mount);
    const fs::path fake_sysctl = root_ / "sysctl-value";
    std::ofstream(fake_sysctl) << "5\n";
    const std::vector<std::string> never{
        "scratch " + victim_.string(),                                                   // not ilk-<stem>-<run id>
        "scratch " + target_.string() + "/ilk-scratch-" + kRunId + "/../victim",       // `..`
        "scratch " + target_.string() + "/ilk-scratch-9-00000000",                     // another run's id
        "scratch ilk-scratch-" + kRunId,                                                  // relative
        "mount " + outside_mount.string(),                                               // outside every scratch directory
        "mount " + scratch_.string() + "/../../" + dotdot_mount.filename().string(),     // `..` out of a scratch directory
        "loop " + (root_ / "victim.img").string(),                                       // an image outside the scratch directories
        "sysctl " + fake_sysctl.string() + " 3 5",                                       // not a sysctl the kit changes
        "proc 1 " + std::to_string(proc_stat(1) ? proc_stat(1)->start : 1),              // init
        "proc " + std::to_string(sleeper_),                                              // no start time
        "rm -rf " + victim_.string(),                                                    // unknown kind
        "garbage",
    };
    std::string text = "scratch " + scratch_.string() + "\n";  // genuinely of the kit's form: removed
    for (const std::string& line : never) text += line + "\n";
    write_journal(journal_, text);

    Exit cx;
    const std::string out = run_clean(cx);
    ASSERT_TRUE(cx.finished && cx.exited && cx.code == 0) << "ilk clean: " << cx.describe() << "\n" << out;
    for (size_t i = 0; i < never.size(); ++i)
        EXPECT_TRUE(contains(out, journal_.filename().string() + ": line " + std::to_string(i + 2) + ": entry the kit never makes: '" +
                                      never[i]))
            << "line " << i + 2 << " not reported:\n" << out;
    EXPECT_TRUE(contains(out, "removed " + scratch_.string())) << out;
    EXPECT_FALSE(fs::exists(scratch_)) << "the kit's own scratch directory should still be undone";
    EXPECT_TRUE(fs::exists(victim_ / "precious"));
    EXPECT_TRUE(fs::is_directory(outside_mount)) << "a mount entry outside the scratch directories was acted on";
    EXPECT_TRUE(fs::is_directory(dotdot_mount)) << "a mount entry with .. was acted on";
    EXPECT_EQ(read_long(fake_sysctl), 5) << "a file that is no sysctl of the kit was written";
    EXPECT_TRUE(alive_as(sleeper_, sleeper_start_));
    EXPECT_TRUE(fs::exists(journal_)) << "a journal with entries left alone must stay for the user to check";
    EXPECT_TRUE(contains(out, std::to_string(never.size()) + " journal entries of a form the kit never writes left alone")) << out;
    EXPECT_TRUE(contains(out, "1 journal(s) kept for a later ilk clean: " + journal_.filename().string())) << out;
}

}  // namespace
