// ilk advise on NFS: the options that decide it, those that would void every
// lock across clients, and the cells of servers on two clients added from an
// NFS lab's column.
#include <gtest/gtest.h>

#include "advice.h"

namespace {

ilk::ScenarioResult result(const std::string& scenario, ilk::Verdict v) {
    ilk::ScenarioResult s;
    s.scenario = scenario;
    s.verdict = v;
    s.schedules = 3;
    if (v != ilk::Verdict::SAFE) s.reason = "why";
    return s;
}

ilk::StrategyCell cell(const std::string& strategy, std::vector<ilk::ScenarioResult> scenarios) {
    ilk::StrategyCell c;
    c.strategy = strategy;
    c.scenarios = std::move(scenarios);
    ilk::fold_cell(c);
    return c;
}

ilk::TargetResult nfs_dir(const std::string& options) {
    ilk::TargetResult t;
    t.name = "/srv/pg";
    t.info = {{"path", "/srv/pg"}, {"fstype", "nfs4"}, {"mount_options", options}, {"mount_point", "/srv"}, {"mount_source", "filer:/pg"}};
    t.cells = {cell("lifetime-flock", {result("crash-restart", ilk::Verdict::SAFE)}),
               cell("legacy-pid", {result("crash-restart", ilk::Verdict::SAFE)})};
    return t;
}

TEST(NfsLocking, VersionAndWhereLocksAreKept) {
    const ilk::NfsLocking v42 = ilk::nfs_locking("rw,relatime,vers=4.2,rsize=32768,soft,proto=tcp,local_lock=none,addr=10.0.1.1");
    EXPECT_EQ(v42.vers, "4.2");
    EXPECT_EQ(v42.local_lock, "none");
    EXPECT_EQ(ilk::nfs_locking("vers=4.2,soft,timeo=100,retrans=3"), v42) << "a plugin's options, where local_lock is not said";
    const ilk::NfsLocking nolock = ilk::nfs_locking("vers=3,nolock,soft");
    EXPECT_TRUE(nolock.nolock);
    EXPECT_EQ(nolock.local_lock, "all") << "nfs(5): nolock keeps every lock on the client";
    EXPECT_EQ(ilk::nfs_locking("rw,vers=3,nolock,local_lock=all"), nolock) << "as /proc/mounts shows it";
    EXPECT_EQ(ilk::nfs_locking("nfsvers=3,local_lock=flock").local_lock, "flock");
    EXPECT_FALSE(ilk::nfs_locking("vers=3,local_lock=flock") == ilk::nfs_locking("vers=3"));
}

TEST(NfsAdvice, NamesTheOptionsThatWouldVoidLocksAndHowToJudgeTwoClients) {
    const ilk::TargetResult t = nfs_dir("rw,vers=4.2,soft,local_lock=none");
    const std::string text = ilk::advice_text(t, ilk::advise(t, {}), false);
    EXPECT_NE(text.find("on NFS: vers=4.2, local_lock=none decide how locks work here"), std::string::npos) << text;
    EXPECT_NE(text.find("unsafe across clients with (nfs(5)): nolock or local_lock=all"), std::string::npos) << text;
    EXPECT_NE(text.find("ilk advise DIR --guest IMAGE"), std::string::npos) << "says how to judge two clients: " << text;
}

TEST(NfsAdvice, AMountThatKeepsLocksOnItsClientIsSaidToBeOne) {
    const ilk::TargetResult t = nfs_dir("rw,vers=3,nolock,local_lock=all");
    const std::string text = ilk::advice_text(t, ilk::advise(t, {}), false);
    EXPECT_NE(text.find("this mount keeps every lock on this client (nfs(5): nolock)"), std::string::npos) << text;
}

// The lab's cells join the directory's, under the mount's name, and decide:
// SAFE on one client, UNSAFE across two is not recommended.
TEST(NfsAdvice, CellsOfTwoClientsDecideTheRecommendation) {
    const ilk::TargetResult dir = nfs_dir("rw,vers=4.2,local_lock=none");
    ilk::TargetResult lab;
    lab.name = "nfs4.2";
    lab.cells = {cell("lifetime-flock", {result("nfs-lease-expiry", ilk::Verdict::UNSAFE)}),
                 cell("legacy-pid", {result("nfs-cross-client", ilk::Verdict::SAFE)})};
    const ilk::TargetResult judged = ilk::with_network_cells(dir, lab);
    ASSERT_EQ(judged.cells.size(), 2u);
    EXPECT_EQ(judged.cells[0].verdict, ilk::Verdict::UNSAFE);
    EXPECT_EQ(judged.cells[0].scenarios.back().scenario, "nfs-lease-expiry (nfs4.2)");
    const ilk::Advice advice = ilk::advise(judged, {"lifetime-flock", "legacy-pid"});
    EXPECT_EQ(advice.recommended, "legacy-pid");
    const std::string text = ilk::advice_text(judged, advice, false);
    EXPECT_NE(text.find("servers on two clients were judged in an NFS lab"), std::string::npos) << text;
    EXPECT_NE(text.find("UNSAFE under nfs-lease-expiry (nfs4.2)"), std::string::npos) << text;
}

}  // namespace
