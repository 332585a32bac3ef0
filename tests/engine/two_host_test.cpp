// Two hosts, one data directory: server A on the local host, the starters on
// an `ilk agent` in its own PID, IPC, mount and UTS namespaces (a container on
// the same volume). What the hosts do not share — PIDs, SysV segments — shows
// up as verdicts; what they do share — the file and its locks — holds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "engine/explorer.h"
#include "host/agent_host.h"
#include "host/agent_protocol.h"
#include "host/local_host.h"
#include "journal.h"
#include "probe.h"
#include "probe_hosts.h"

namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

class TwoHosts : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;  // each test skips with the reason
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        char tmpl[] = "/dev/shm/ilk-two-hosts-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = new fs::path(tmpl);
        fs::permissions(*dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
        setenv("ILK_STATE_DIR", (*dir_ / "state").c_str(), 1);
        registry_ = new ilk::Registry;
        registry_->load_dirs({ILK_TEST_PLUGIN_DIR});
        journal_ = new ilk::Journal(ilk::Journal::begin(*dir_));
        ilk::Lab lab(*registry_, *journal_, *dir_);
        for (const auto& p : registry_->primitives()) ilk::check_primitive(lab, p);
        local_ = new ilk::LocalHost(*registry_, journal_, ILK_BINARY);
        agent_ = new ilk::AgentHost("container", {"unshare", "--pid", "--ipc", "--mount", "--uts", "--fork", "--kill-child",
                                                  "--mount-proc", ILK_BINARY, "--plugin-dir", ILK_TEST_PLUGIN_DIR,
                                                  "agent", "--fd", "3"},
                                    journal_);
        env_ = new ilk::TrialEnv;
        env_->registry = registry_;
        env_->journal = journal_;
        env_->workdir = journal_->scratch();
        env_->host = local_;
        env_->placement = {{"B", agent_}, {"C", agent_}};
        for (const auto& s : ilk::load_strategies({ILK_TEST_SOURCE_DIR "/strategies"})) strategies_.push_back(s);
    }
    static void TearDownTestSuite() {
        if (!dir_) return;
        delete env_;
        delete agent_;
        delete local_;
        journal_->finish(*registry_);
        delete journal_;
        delete registry_;
        fs::remove_all(*dir_);
        unsetenv("ILK_STATE_DIR");
    }
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root: the agent host runs in new PID, IPC, mount and UTS namespaces";
    }

    static ilk::Verdict run(const std::string& strategy, const std::string& scenario, std::string* reason = nullptr) {
        for (const auto& s : strategies_)
            if (s.name == strategy) {
                const ilk::CellResult c = ilk::explore(*env_, s, *ilk::find_scenario(scenario), {});
                if (reason) *reason = c.reason;
                return c.verdict;
            }
        throw std::runtime_error("no strategy " + strategy);
    }

    static inline fs::path* dir_ = nullptr;
    static inline ilk::Registry* registry_ = nullptr;
    static inline ilk::Journal* journal_ = nullptr;
    static inline ilk::LocalHost* local_ = nullptr;
    static inline ilk::AgentHost* agent_ = nullptr;
    static inline ilk::TrialEnv* env_ = nullptr;
    static inline std::vector<ilk::StrategySpec> strategies_;
};

TEST_F(TwoHosts, TheAgentIsAnotherHost) {
    EXPECT_EQ(agent_->hello().value("pid", 0), 1) << "the agent is the first process of its own PID namespace";
    EXPECT_EQ(agent_->hello().value("version", 0), ilk::agent::kProtocolVersion);
}

// A crashed server's orphaned backends on one host: the other host's starter
// sees neither their PIDs nor their segment.
TEST_F(TwoHosts, SegmentAndPidChecksDoNotCrossHosts) {
    std::string why;
    EXPECT_EQ(run("tom-2004", "crash-orphans", &why), ilk::Verdict::UNSAFE) << why;
    EXPECT_NE(why.find("'3 attach old segment' (absent)"), std::string::npos) << why;
    EXPECT_EQ(run("pg-current", "crash-orphans", &why), ilk::Verdict::UNSAFE) << why;
    EXPECT_EQ(run("legacy-pid", "frozen-holder", &why), ilk::Verdict::UNSAFE) << why;
    EXPECT_NE(why.find("(ESRCH)"), std::string::npos) << why;
}

// The lock is on the shared file: it holds across the hosts.
TEST_F(TwoHosts, AFileLockHoldsAcrossHosts) {
    for (const char* scenario : {"crash-orphans", "frozen-holder", "crash-restart", "concurrent-start"}) {
        std::string why;
        EXPECT_EQ(run("lifetime-flock", scenario, &why), ilk::Verdict::SAFE) << scenario << ": " << why;
    }
}

// A host that sees the data directory at another path (its own mount of the
// same files, the local path hidden): each contender is told where its own
// host sees it, from the target's view per host.
TEST_F(TwoHosts, EachHostIsToldWhereItSeesTheDataDirectory) {
    const fs::path view = *dir_ / "view";
    fs::create_directories(view);
    const std::string scratch = journal_->scratch().string();
    ilk::AgentHost elsewhere(
        "elsewhere",
        {"unshare", "--mount", "--fork", "--kill-child", "sh", "-c",
         fmt::format("mount --bind '{0}' '{1}' && mount -t tmpfs ilk-hide '{0}' && exec \"$0\" --plugin-dir '{2}' agent --fd 3",
                     scratch, view.string(), ILK_TEST_PLUGIN_DIR),
         ILK_BINARY},
        journal_);
    ilk::TrialEnv env = *env_;
    env.placement = {{"B", &elsewhere}};
    const ilk::StrategySpec* flock = nullptr;
    for (const auto& s : strategies_)
        if (s.name == "lifetime-flock") flock = &s;
    ASSERT_NE(flock, nullptr);
    // Told the local path, the starter finds no data directory there.
    const ilk::CellResult blind = ilk::explore(env, *flock, *ilk::find_scenario("crash-restart"), {});
    EXPECT_NE(blind.verdict, ilk::Verdict::SAFE) << blind.reason;
    env.views = {{"elsewhere", view}};
    const ilk::CellResult seen = ilk::explore(env, *flock, *ilk::find_scenario("crash-restart"), {});
    EXPECT_EQ(seen.verdict, ilk::Verdict::SAFE) << seen.reason;
    const ilk::CellResult both = ilk::explore(env, *flock, *ilk::find_scenario("concurrent-start"), {});
    EXPECT_EQ(both.verdict, ilk::Verdict::SAFE) << "the lock holds through the other path: " << both.reason;
}

// The data directory is made, changed by scenarios and removed by the host
// of A. Here neither contender's host is this one, and the path they share
// does not exist here, as on two NFS clients (the harness's host does not see
// the export at all); each has SysV IPC of its own, as a machine has (what a
// scenario plants there ends with its agent).
TEST_F(TwoHosts, TheHostOfAMakesChangesAndRemovesTheDataDirectory) {
    const fs::path hidden = *dir_ / "hidden", shared = hidden / "export";
    fs::create_directories(hidden);
    auto client = [&](const char* name) {
        return std::make_unique<ilk::AgentHost>(
            name,
            std::vector<std::string>{
                "unshare", "--mount", "--ipc", "--fork", "--kill-child", "sh", "-c",
                fmt::format("mount -t tmpfs ilk-hide '{0}' && mkdir '{1}' && mount --bind '{2}' '{1}' && "
                            "exec \"$0\" --plugin-dir '{3}' agent --fd 3",
                            hidden.string(), shared.string(), journal_->scratch().string(), ILK_TEST_PLUGIN_DIR),
                ILK_BINARY},
            journal_);
    };
    const auto a_host = client("client-a"), b_host = client("client-b");
    ilk::TrialEnv env = *env_;
    env.workdir = shared;
    env.host = a_host.get();
    env.placement = {{"B", b_host.get()}, {"C", b_host.get()}};
    auto strategy = [&](const char* name) -> const ilk::StrategySpec& {
        for (const auto& s : strategies_)
            if (s.name == name) return s;
        throw std::runtime_error(std::string("no strategy ") + name);
    };
    // Each needs the scenario's change to the files to be made where A sees them.
    const struct {
        const char* strategy;
        const char* scenario;
        ilk::Verdict expected;
        const char* why;
    } cases[] = {
        {"lifetime-flock", "crash-restart", ilk::Verdict::SAFE, "the lock is on the shared file"},
        {"lifetime-flock", "lockfile-unlinked", ilk::Verdict::UNSAFE, "B locks a new file of the same name"},
        {"pg-current", "corrupt-pidfile", ilk::Verdict::STUCK, "the empty variant is refused, as PostgreSQL does"},
        {"legacy-pid", "unreadable-pidfile", ilk::Verdict::STUCK, "a pidfile it cannot read is refused for good"},
        {"tom-2004", "key-collision", ilk::Verdict::SAFE, "the foreign segment is planted, looked up by key and kept on A's host"},
    };
    for (const auto& c : cases) {
        const ilk::CellResult r = ilk::explore(env, strategy(c.strategy), *ilk::find_scenario(c.scenario), {});
        EXPECT_EQ(r.verdict, c.expected) << c.strategy << " on " << c.scenario << " (" << c.why << "): " << r.reason;
        const ilk::CellResult here = ilk::explore(*env_, strategy(c.strategy), *ilk::find_scenario(c.scenario), {});
        EXPECT_EQ(r.verdict, here.verdict) << c.strategy << " on " << c.scenario << ": as with every contender here";
    }
    EXPECT_FALSE(fs::exists(shared)) << "nothing was made here";
    for (const auto& e : fs::directory_iterator(journal_->scratch()))
        EXPECT_EQ(e.path().filename().string().rfind("trial-", 0), std::string::npos) << "left behind: " << e.path();
}

// An agent that dies is contained: the scenario is the kit's ERROR naming the
// agent, and the run goes on; an agent that cannot start is refused by name.
TEST_F(TwoHosts, AnAgentThatDiesIsAnErrorNamingIt) {
    ilk::AgentHost doomed("doomed", {ILK_BINARY, "--plugin-dir", ILK_TEST_PLUGIN_DIR, "agent", "--fd", "3"}, journal_);
    ASSERT_EQ(kill(doomed.hello().value("pid", -1), SIGKILL), 0);
    ilk::TrialEnv env = *env_;
    env.placement = {{"B", &doomed}};
    for (const auto& s : strategies_)
        if (s.name == "lifetime-flock") {
            const ilk::CellResult c = ilk::explore(env, s, *ilk::find_scenario("crash-restart"), {});
            EXPECT_EQ(c.verdict, ilk::Verdict::ERROR) << c.reason;
            EXPECT_NE(c.reason.find("agent doomed"), std::string::npos) << c.reason;
        }
    EXPECT_EQ(run("lifetime-flock", "crash-restart"), ilk::Verdict::SAFE) << "the other agent goes on";
    EXPECT_THROW(ilk::AgentHost("nowhere", {"/nonexistent/ilk", "agent", "--fd", "3"}, journal_), std::runtime_error);
}

// A fact's value, expected measured (else the test says why it was not).
nlohmann::json measured_value(const ilk::FactSet& facts, const std::string& id) {
    const auto it = facts.find(id);
    if (it == facts.end()) throw std::runtime_error("no fact " + id);
    EXPECT_TRUE(it->second.measured) << id << ": " << it->second.reason;
    return it->second.value;
}

// ilk probe across the hosts: A here, B on the agent, each fact an act of both.
TEST_F(TwoHosts, ProbeFactsAcrossHosts) {
    ilk::Lab lab(*registry_, *journal_, journal_->scratch());
    std::vector<const ilk::Primitive*> locks, segments;
    for (const auto& p : registry_->primitives()) {
        if (std::string(p.desc->name) == "flock" || std::string(p.desc->name) == "ofd") locks.push_back(&p);
        if (std::string(p.desc->name) == "sysv") segments.push_back(&p);
    }
    ASSERT_EQ(locks.size(), 2u);
    ASSERT_EQ(segments.size(), 1u);
    ilk::FactSet facts;
    ilk::probe_across_hosts(lab, *agent_, locks, segments, facts);
    auto value = [&](const std::string& id) { return measured_value(facts, id); };
    for (const char* p : {"flock", "ofd"}) {
        EXPECT_EQ(value(fmt::format("hosts.locks.{}.excludes_other_host", p)), true) << p;
        EXPECT_EQ(value(fmt::format("hosts.locks.{}.released_on_holder_kill", p)), true) << p;
    }
    EXPECT_EQ(value("hosts.segments.sysv.key_visible_on_other_host"), false) << "another IPC namespace";
    EXPECT_EQ(value("hosts.process.kill0_sees_other_host"), false) << "another PID namespace";
}

// op exec: what the NFS lab mounts and probes with. Exit code, both outputs,
// a program that cannot start, and one ended at its timeout (the agent answers
// then, and goes on serving).
TEST_F(TwoHosts, TheAgentRunsAProgramAndEndsItAtItsTimeout) {
    const auto ran = agent_->exec({"sh", "-c", "echo out; echo err >&2; exit 3"}, 5s);
    EXPECT_EQ(ran.rc, 3);
    EXPECT_EQ(ran.out, "out\n");
    EXPECT_EQ(ran.err, "err\n");
    const auto missing = agent_->exec({"/nonexistent/program"}, 5s);
    EXPECT_EQ(missing.rc, 127);
    EXPECT_NE(missing.err.find("cannot run /nonexistent/program"), std::string::npos) << missing.err;
    const auto t0 = std::chrono::steady_clock::now();
    const auto slow = agent_->exec({"sh", "-c", "sleep 30 & sleep 30"}, 300ms);
    EXPECT_EQ(slow.rc, -1) << "ended at its timeout";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "the whole group ended, not waited for";
    EXPECT_EQ(agent_->exec({"true"}, 5s).rc, 0) << "the agent serves on";
}

// The facts across two clients, measured here with both clients on the one
// agent host (two processes, a local directory): every lock excludes the other
// and is released when its holder dies; flock and OFD do not conflict on a
// local filesystem. On NFS the same code runs with one client guest each.
TEST_F(TwoHosts, ProbeFactsAcrossClients) {
    ilk::FactSet facts;
    ilk::probe_across_clients(*agent_, *agent_, journal_->scratch().string(), {"flock", "ofd"}, facts);
    auto value = [&](const std::string& id) { return measured_value(facts, id); };
    for (const char* p : {"flock", "ofd"}) {
        EXPECT_EQ(value(fmt::format("clients.locks.{}.excludes_other_client", p)), true) << p;
        EXPECT_EQ(value(fmt::format("clients.locks.{}.released_on_holder_kill", p)), true) << p;
    }
    EXPECT_EQ(value("clients.locks.flock.conflicts_with.ofd"), false) << "locks.flock.conflicts_with.ofd on a local filesystem";
    EXPECT_EQ(value("clients.locks.ofd.conflicts_with.flock"), false);
    EXPECT_EQ(facts.size(), 6u);
}

// An agent that lies (lying_agent.py): it answers every request with this
// host's things - a bystander process's PID and start time, a SysV segment's
// id, a path - and its contenders ask to journal an unmount of "/", that path
// and that process. What it says is data: whatever the verdicts, the
// bystander lives on unstopped, the segment and the path are intact, and the
// run's journal (what ilk clean undoes) names none of them.
TEST_F(TwoHosts, ALyingAgentMakesTheHarnessActOnNothingOfItsOwnHost) {
    const fs::path victim = *dir_ / "victim";
    fs::create_directories(victim);
    std::ofstream(victim / "keep") << "mine\n";
    const pid_t bystander = fork();
    ASSERT_GE(bystander, 0);
    if (bystander == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) pause();
    }
    const int shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    ASSERT_GE(shmid, 0);
    setenv("ILK_LIE_PID", std::to_string(bystander).c_str(), 1);
    setenv("ILK_LIE_START", std::to_string(ilk::process_start_time(bystander)).c_str(), 1);
    setenv("ILK_LIE_SHMID", std::to_string(shmid).c_str(), 1);
    setenv("ILK_LIE_PATH", victim.c_str(), 1);
    std::vector<std::string> verdicts;
    {
        ilk::AgentHost liar("liar", {"python3", ILK_TEST_SOURCE_DIR "/tests/engine/lying_agent.py"}, journal_, 2s);
        EXPECT_EQ(liar.hello().value("kernel", ""), "../" + victim.string()) << "the liar is the one answering";
        ilk::TrialEnv env = *env_;
        env.placement = {{"B", &liar}, {"C", &liar}};
        for (const auto& [strategy, scenario] : std::vector<std::pair<std::string, std::string>>{
                 {"legacy-pid", "crash-restart"}, {"legacy-pid", "pid-reuse"}, {"tom-2004", "key-collision"}, {"tom-2004", "crash-orphans"}})
            for (const auto& s : strategies_)
                if (s.name == strategy) {
                    ilk::ScheduleOptions o;
                    o.max_schedules = 3;
                    const ilk::CellResult c = ilk::explore(env, s, *ilk::find_scenario(scenario), o);
                    verdicts.push_back(fmt::format("{} x {}: {} ({})", strategy, scenario, ilk::to_string(c.verdict), c.reason.substr(0, 120)));
                }
    }
    for (const auto& v : verdicts) std::cout << "  " << v << "\n";
    EXPECT_EQ(verdicts.size(), 4u);

    std::string state;
    {
        std::ifstream stat("/proc/" + std::to_string(bystander) + "/stat");
        std::string line;
        std::getline(stat, line);
        if (const size_t close = line.rfind(')'); close != std::string::npos && close + 2 < line.size()) state = line.substr(close + 2, 1);
    }
    EXPECT_TRUE(state == "S" || state == "R") << "the bystander was stopped or killed: state '" << state << "'";
    struct shmid_ds ds {};
    EXPECT_EQ(shmctl(shmid, IPC_STAT, &ds), 0) << "the segment the liar named was removed";
    EXPECT_TRUE(fs::exists(victim / "keep")) << "the path the liar named was removed";
    std::stringstream journal;
    journal << std::ifstream(journal_->file()).rdbuf();
    EXPECT_EQ(journal.str().find(victim.string()), std::string::npos) << journal.str();
    EXPECT_EQ(journal.str().find("mount /\n"), std::string::npos) << journal.str();
    EXPECT_EQ(journal.str().find(fmt::format("proc {} ", bystander)), std::string::npos) << journal.str();

    kill(bystander, SIGKILL);
    waitpid(bystander, nullptr, 0);
    shmctl(shmid, IPC_RMID, nullptr);
    fs::remove_all(victim);
}

}  // namespace
