// vm.nr_overcommit_hugepages is one value for the whole host. Two runs that
// raise it at once, A (0 -> 2) then B (2 -> 4), once left 2 behind: A's undo
// saw 4, not its 2, and left it; B's wrote back its "old" 2 (issue 8). Each run
// now adds its pages and takes them away again, under one lock: whatever the
// order, the value ends where it was. Root only; the real value is restored
// after each test whatever happens.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "host_state.h"
#include "ilk/hugepage_support.h"
#include "journal.h"
#include "registry.h"

namespace {

using namespace std::chrono_literals;
using namespace ilk_test;

const fs::path kOvercommit = "/proc/sys/vm/nr_overcommit_hugepages";

std::int32_t record_into(void* journal, const char* kind, const char* what) {
    return static_cast<const ilk::Journal*>(journal)->record(kind, what) ? 0 : -1;
}

// A run as far as huge pages go: its journal and the context its plugins get.
struct HugePageRun {
    explicit HugePageRun(const fs::path& parent) : journal(ilk::Journal::begin(parent)), scratch(journal.scratch().string()) {}
    ilk::ProbeContext context() { return {scratch.c_str(), scratch.c_str(), 1, record_into, &journal}; }
    ilk::Journal journal;
    std::string scratch;
};

// More pages than the host has to spare now, so ensure_huge_pages must raise.
long pages_to_raise() {
    const long free_pages = ilk::meminfo_field("HugePages_Free"), surplus = ilk::meminfo_field("HugePages_Surp");
    const long overcommit = read_long(kOvercommit).value_or(0);
    return std::max(free_pages, overcommit - std::max(surplus, 0L)) + 1;
}

class SysctlOverlapTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root: only root raises " << kOvercommit;
        if (ilk::meminfo_field("Hugepagesize") <= 0) GTEST_SKIP() << "no huge pages in this kernel (/proc/meminfo)";
        // These runs are the harness's own, in this process; another kit's
        // run would move the value they compare exactly.
        others_.look();
        if (others_.seen()) GTEST_SKIP() << "other kits are running (" << others_.describe() << "): they change " << kOvercommit << " too";
        before_ = read_long(kOvercommit);
        if (!before_) GTEST_SKIP() << "cannot read " << kOvercommit;
        if (std::ofstream out(kOvercommit); !(out << *before_ << '\n' << std::flush))
            GTEST_SKIP() << kOvercommit << " is not writable here";
        std::string tmpl = (fs::temp_directory_path() / "ilk-sysctl-test-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
        root_ = tmpl;
        ASSERT_EQ(setenv("ILK_STATE_DIR", (root_ / "state").c_str(), 1), 0);
    }

    void TearDown() override {
        // A safety net for a test that stopped half-way; never over another kit's change.
        others_.look();
        if (before_ && now() != *before_ && !others_.seen()) std::ofstream(kOvercommit) << *before_ << '\n';
        unsetenv("ILK_STATE_DIR");
        std::error_code ec;
        if (!root_.empty()) fs::remove_all(root_, ec);
    }

    long now() const { return read_long(kOvercommit).value_or(-1); }

    std::optional<long> before_;
    fs::path root_;
    ilk_test::OtherKits others_{getpid()};
};

class SysctlOrderTest : public SysctlOverlapTest, public ::testing::WithParamInterface<bool> {};

TEST_P(SysctlOrderTest, OverlappingRaisesEndWhereTheyStartedInEitherOrder) {
    const bool first_raised_finishes_first = GetParam();
    HugePageRun a(root_), b(root_);
    const long pages_a = pages_to_raise();
    auto ctx_a = a.context();
    ASSERT_EQ(ilk::ensure_huge_pages(&ctx_a, pages_a).status, ilk::OpStatus::ok);
    const long after_a = now();
    ASSERT_GT(after_a, *before_) << "A did not raise " << kOvercommit;
    const long pages_b = pages_to_raise();
    auto ctx_b = b.context();
    ASSERT_EQ(ilk::ensure_huge_pages(&ctx_b, pages_b).status, ilk::OpStatus::ok);
    const long after_b = now();
    ASSERT_GT(after_b, after_a) << "B did not raise " << kOvercommit;

    HugePageRun& first = first_raised_finishes_first ? a : b;
    HugePageRun& second = first_raised_finishes_first ? b : a;
    const long still_needed = first_raised_finishes_first ? after_b - after_a : after_a - *before_;
    first.journal.finish(ilk::Registry{});
    EXPECT_EQ(now(), *before_ + still_needed) << "the run still going lost the pages it raised, or the finished one left its own";
    second.journal.finish(ilk::Registry{});
    EXPECT_EQ(now(), *before_) << kOvercommit << " did not end where it started";
}

INSTANTIATE_TEST_SUITE_P(Order, SysctlOrderTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "FirstRaisedFinishesFirst" : "LastRaisedFinishesFirst"; });

// Runs raising and lowering at full speed side by side never lose a change
// (each read-modify-write holds the lock).
TEST_F(SysctlOverlapTest, ConcurrentRaisesAndUndoesLoseNothing) {
    std::vector<pid_t> runs;
    for (int r = 0; r < 2; ++r) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (int i = 0; i < 40; ++i) {
                HugePageRun run(root_);
                auto ctx = run.context();
                if (ilk::ensure_huge_pages(&ctx, pages_to_raise()).status != ilk::OpStatus::ok) _exit(1);
                run.journal.finish(ilk::Registry{});
            }
            _exit(0);
        }
        runs.push_back(pid);
    }
    for (const pid_t pid : runs) {
        const Exit x = wait_for(pid, 120s);
        EXPECT_TRUE(x.finished && x.exited && x.code == 0) << "a run: " << x.describe();
    }
    EXPECT_EQ(now(), *before_) << kOvercommit << " did not end where it started";
}

// A run SIGKILLed with its pages raised: the next clean takes them away.
TEST_F(SysctlOverlapTest, RaiseOfADeadRunIsTakenBackByClean) {
    HugePageRun alive(root_);  // another run, still going, whose pages must stay
    auto ctx = alive.context();
    ASSERT_EQ(ilk::ensure_huge_pages(&ctx, pages_to_raise()).status, ilk::OpStatus::ok);
    const long alive_raised = now();
    const pid_t dead = fork();
    ASSERT_GE(dead, 0);
    if (dead == 0) {
        HugePageRun run(root_);
        auto ctx = run.context();
        _exit(ilk::ensure_huge_pages(&ctx, pages_to_raise()).status == ilk::OpStatus::ok ? 0 : 1);  // no finish()
    }
    const Exit x = wait_for(dead, 10s);
    ASSERT_TRUE(x.exited && x.code == 0) << x.describe();
    ASSERT_GT(now(), alive_raised);
    const std::vector<std::string> done = ilk::clean_stale_journals(ilk::Registry{});
    EXPECT_TRUE(std::any_of(done.begin(), done.end(), [](const std::string& l) { return l.find("lowered " + kOvercommit.string()) != std::string::npos; }));
    EXPECT_EQ(now(), alive_raised) << "clean did not take back exactly the dead run's pages";
    alive.journal.finish(ilk::Registry{});
    EXPECT_EQ(now(), *before_);
}

// Journals of older kits and plugins hold an absolute change: written back
// only while the sysctl still holds what the run wrote.
TEST_F(SysctlOverlapTest, AbsoluteEntryOfAnOlderKitIsRestoredOnlyIfUnchanged) {
    HugePageRun run(root_);
    ASSERT_TRUE(run.journal.record("sysctl", kOvercommit.string() + " " + std::to_string(*before_) + " " + std::to_string(*before_ + 5)));
    std::ofstream(kOvercommit) << *before_ + 5 << '\n';
    const std::vector<std::string> done = run.journal.finish(ilk::Registry{});
    EXPECT_TRUE(std::find(done.begin(), done.end(), "restored " + kOvercommit.string() + " to " + std::to_string(*before_)) != done.end());
    EXPECT_EQ(now(), *before_);

    HugePageRun changed_since(root_);
    ASSERT_TRUE(changed_since.journal.record("sysctl", kOvercommit.string() + " " + std::to_string(*before_) + " " +
                                                           std::to_string(*before_ + 5)));
    std::ofstream(kOvercommit) << *before_ + 7 << '\n';  // someone else changed it since
    changed_since.journal.finish(ilk::Registry{});
    EXPECT_EQ(now(), *before_ + 7) << "a value changed since the run must not be written back";
}

}  // namespace
