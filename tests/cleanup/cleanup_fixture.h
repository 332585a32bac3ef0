// The fixture of the cleanup tests: runs the real ilk binary with a private
// ILK_STATE_DIR and target and the slow-count fake loaded next to the real
// plugins, watches what the run holds (from its journal on disk and /proc),
// checks that nothing of it is left, and removes whatever is, even when a test
// fails. The test process is a child subreaper, so whatever the kit orphans
// comes back to it and can be seen.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host_state.h"

namespace ilk_test {

using namespace std::chrono_literals;
using json = nlohmann::json;

inline const fs::path kOvercommit = "/proc/sys/vm/nr_overcommit_hugepages";
inline constexpr auto kProbeTimeout = 60s;     // ~0.5 s, plus 3 s for each hung slow-count
inline constexpr auto kHangTimeout = 30s;      // until slow-count's count hangs
inline constexpr auto kInterruptTimeout = 5s;  // Ctrl-C to exit: "within a few seconds"
inline constexpr auto kCleanTimeout = 30s;
inline constexpr auto kSettle = 5s;            // for the kernel to finish detaching and reaping

inline bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// Keys the harness hands out: 0x49, the low 16 bits of its pid, a counter.
inline bool key_of_run(long long key, pid_t ilk) { return (key >> 8) == ((0x49LL << 16) | (ilk & 0xffff)); }

// What a stopped or running kit holds at one moment, taken from its journal on disk.
struct Leftovers {
    fs::path journal;
    JournalView view;
    std::vector<ShmSegment> segments;                // journaled key and creator, present now
    std::vector<JournalView::Proc> live_procs;       // journaled, same start time, not a zombie
    std::vector<fs::path> mounts;                    // journaled and mounted now
    std::vector<JournalView::Sysctl> changed;        // the file holds the journaled new value
    std::vector<JournalView::SysctlAdd> raised;      // journaled raises, while the value is above the test's start
    std::vector<pid_t> hanging;                      // slow-count counters still hanging
};

class CleanupTest : public ::testing::Test {
protected:
    void SetUp() override;

    void TearDown() override { remove_our_leftovers(); }

    std::vector<std::string> plugin_args() const;

    std::vector<std::pair<std::string, std::string>> env(long hang_seconds, const std::string& hang_in = "") const;

    pid_t start_probe(const std::string& name, long hang_seconds = 60, const std::string& hang_in = "");

    // `ilk clean` with the same state dir and plugins; its output.
    std::string run_clean(Exit& x, bool with_fake = true);

    std::string stderr_of_last() const { return read_text(last_err_); }

    // Called while a run goes on: remember every journal line and every
    // process below the run, so "nothing left" can be checked for each.
    void watch(pid_t ilk);

    void record_journal_lines();

    JournalView seen() const { return parse_journal(seen_lines_); }

    bool wait_for_hangs(pid_t ilk, size_t n);

    Leftovers find_leftovers();

    // Without real leftovers, "everything is gone afterwards" proves nothing.
    void assert_real_leftovers(const Leftovers& l);

    // Nothing of any run of this test remains on the host.
    void expect_nothing_left(const std::vector<ShmSegment>& segments_seen);

    static std::string describe(const Leftovers& l);

    std::string describe_live(const JournalView& v) const;

    json report() const;

    // Whatever happened in the test: stop our runs, kill what they (or we)
    // started, remove journaled segments, undo the sysctl, unmount, delete.
    void remove_our_leftovers();

    fs::path root_, target_, state_, out_, marker_, report_, last_err_;
    std::optional<long> sysctl_before_;
    // Other kits seen from SetUp on: while one runs, the host-wide sysctl is
    // not compared (it may have changed it), and never written back.
    OtherKits others_{getpid()};
    bool sysctl_comparable();  // looks again: no other kit seen so far
    long long started_ = 0;  // time(), to tell our segments from older ones
    std::vector<pid_t> ilk_pids_;
    std::vector<int> own_shmids_;
    std::vector<std::string> seen_lines_;
    std::set<std::string> seen_set_;
    std::set<std::pair<pid_t, unsigned long long>> seen_procs_;
};

}  // namespace ilk_test
