// key-collision plants a SysV segment with shmget itself. Journaled as a
// `segment sysv ...` that only the sysv plugin could undo, a run with a plugin
// directory lacking it kept its journal every time, and every later run printed
// a "cannot reclaim" line per segment (issue 8). The kit's own segment must be
// undone without any plugin: no journal, no segment left, nothing to reclaim later.
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "cleanup_fixture.h"

namespace {

using namespace ilk_test;

class KeyCollisionCleanupTest : public CleanupTest {
protected:
    void SetUp() override {
        CleanupTest::SetUp();
        if (HasFatalFailure()) return;
        char tmpl[] = "/dev/shm/ilk-key-collision-test-XXXXXX";
        if (!mkdtemp(tmpl)) GTEST_SKIP() << "no /dev/shm to run on: " << std::strerror(errno);
        shm_dir_ = tmpl;
        plugins_ = root_ / "plugins";  // the flock plugin only: no sysv
        fs::create_directory(plugins_);
        fs::copy_file(fs::path(ILK_PLUGIN_OUTPUT_DIR) / "ilk-bsd-flock.so", plugins_ / "ilk-bsd-flock.so");
    }

    void TearDown() override {
        std::error_code ec;
        if (!shm_dir_.empty()) fs::remove_all(shm_dir_, ec);
        CleanupTest::TearDown();
    }

    // One run of key-collision on the /dev/shm directory; its output.
    std::string run_key_collision(const std::string& name, Exit& x) {
        const std::vector<std::string> argv{ILK_BINARY, "--plugin-dir", plugins_.string(), "run", "--strategy", "lifetime-flock",
                                            "--scenario", "key-collision", "--target", shm_dir_.string(), "--report-dir",
                                            (out_ / (name + "-report")).string(), "--no-color"};
        const pid_t pid = spawn(argv, {{"ILK_STATE_DIR", state_.string()}, {"TMPDIR", out_.string()}}, out_ / (name + ".out"),
                                out_ / (name + ".err"));
        ilk_pids_.push_back(pid);
        x = wait_for(pid, 120s, [&] { watch(pid); });
        return read_text(out_ / (name + ".out")) + read_text(out_ / (name + ".err"));
    }

    fs::path shm_dir_, plugins_;
};

TEST_F(KeyCollisionCleanupTest, PlantedSegmentIsUndoneWithoutTheSysvPlugin) {
    Exit x;
    const std::string first = run_key_collision("first", x);
    ASSERT_TRUE(x.finished && x.exited) << x.describe() << "\n" << first;
    const JournalView v = seen();
    const bool planted = std::any_of(v.segments.begin(), v.segments.end(),
                                     [](const auto& s) { return s.primitive == "shm" || s.primitive == "sysv"; });
    ASSERT_TRUE(planted) << "the run never journaled the segment it plants: the test proves nothing\n" << first;

    EXPECT_TRUE(journal_files(state_).empty()) << "the run kept its journal:\n" << read_text(journal_files(state_).front()) << first;
    EXPECT_FALSE(contains(first, "could not")) << first;
    for (const ShmSegment& s : sysv_segments())
        for (const auto& j : v.segments)
            EXPECT_FALSE(s.key == j.key && s.cpid == j.creator) << "the planted segment key " << j.key << " is left";
    std::error_code ec;
    EXPECT_TRUE(fs::is_empty(shm_dir_, ec)) << "something is left in the target " << shm_dir_;

    const std::string second = run_key_collision("second", x);
    ASSERT_TRUE(x.finished && x.exited) << x.describe() << "\n" << second;
    EXPECT_FALSE(contains(second, "cannot reclaim")) << second;
    EXPECT_FALSE(contains(second, "could not reclaim")) << second;
    EXPECT_FALSE(contains(second, "cleaned up after an earlier run")) << second;
    expect_nothing_left({});
}

}  // namespace
