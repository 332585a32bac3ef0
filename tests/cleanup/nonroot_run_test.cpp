// The main job without root (issue 8): `ilk run` with no --target adds $TMPDIR
// as a target, whose scratch directory once got the very name of the run's own
// scratch directory in the same $TMPDIR ("File exists"), so the run ended
// with 0 cells. Run as a dedicated uid, it must produce cells for $TMPDIR and
// leave nothing there.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "cleanup_fixture.h"

namespace {

using namespace ilk_test;

constexpr uid_t kUserUid = 2147483601;  // a dedicated numeric uid, nothing in /etc/passwd

TEST_F(CleanupTest, MainJobWithoutRootRunsTheTmpdirTarget) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run the kit as the dedicated uid " << kUserUid;
    // Everything the user gets is theirs; root_ only lets them through.
    fs::permissions(root_, fs::perms(0711));
    const fs::path tmp = root_ / "user-tmp", home = root_ / "user-home", state = root_ / "user-state";
    for (const fs::path& d : {tmp, home, state}) {
        fs::create_directory(d);
        ASSERT_EQ(chown(d.c_str(), kUserUid, kUserUid), 0) << d << ": " << std::strerror(errno);
    }
    fs::permissions(tmp, fs::perms(0755));
    fs::permissions(state, fs::perms(0700));
    const fs::path report_dir = home / "report";

    const std::vector<std::string> argv{ILK_BINARY, "--plugin-dir", ILK_PLUGIN_OUTPUT_DIR, "run", "--strategy", "lifetime-flock",
                                        "--strategy", "legacy-pid", "--report-dir", report_dir.string(), "--no-color"};
    const pid_t pid = spawn(argv, {{"TMPDIR", tmp.string()}, {"HOME", home.string()}, {"ILK_STATE_DIR", state.string()},
                                   {"XDG_RUNTIME_DIR", ""}},
                            out_ / "run.out", out_ / "run.err", kUserUid);
    ilk_pids_.push_back(pid);
    const Exit x = wait_for(pid, 280s);
    const std::string text = read_text(out_ / "run.out") + read_text(out_ / "run.err");
    ASSERT_TRUE(x.finished && x.exited) << "ilk run as uid " << kUserUid << ": " << x.describe() << "\n" << text;
    EXPECT_FALSE(contains(text, "target " + tmp.string() + " not set up")) << text;  // kit-made targets are not, without root
    EXPECT_FALSE(contains(text, " 0 cells")) << text;

    const json r = json::parse(read_text(report_dir / "report.json"), nullptr, false);
    ASSERT_TRUE(r.is_object()) << "no report.json in " << report_dir << "\n" << text;
    size_t cells = 0;
    const json* tmp_target = nullptr;
    for (const json& t : r["targets"]) {
        cells += t["cells"].size();
        if (t["name"] == tmp.string()) tmp_target = &t;
    }
    EXPECT_GT(cells, 0u) << text;
    ASSERT_NE(tmp_target, nullptr) << "the $TMPDIR target " << tmp << " is not in the report";
    EXPECT_EQ((*tmp_target)["unsupported"], "") << tmp_target->dump();
    EXPECT_EQ((*tmp_target)["cells"].size(), 2u) << "one cell per strategy on $TMPDIR: " << tmp_target->dump();

    std::error_code ec;
    EXPECT_TRUE(fs::is_empty(tmp, ec)) << "left in $TMPDIR " << tmp;
    EXPECT_TRUE(journal_files(state).empty()) << "a journal is left in " << state;
    EXPECT_TRUE(eventually([] {
        reap_exited_children();
        return descendants_of(getpid()).empty();
    }, kSettle)) << "a process of the run outlived it";
}

}  // namespace
