// Server files: the README's key table against the loader's, one test per
// load_servers() error of its own (the reader's are the strategy files'),
// and the shipped servers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/real_server.h"

namespace ilk {
namespace {

namespace fs = std::filesystem;

const fs::path kServerDir = fs::path(ILK_TEST_SOURCE_DIR) / "servers";

// Lines 1-8 of the fixtures: a valid entry; keys added after it are on line 9.
const std::string kEntry =
    "[[server]]\nname = \"s\"\nsource = \"doc\"\nuser = \"ilk-server\"\ninit = [\"/bin/true\"]\nstart = [\"/bin/sleep\", \"60\"]\n"
    "ready = [\"/bin/true\"]\nbin_dir = \"/bin\"\n";

std::string remove_backticks(std::string s) {
    std::erase(s, '`');
    return s;
}

std::vector<std::string> cells_of(const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
        const auto b = cell.find_first_not_of(' ');
        const auto e = cell.find_last_not_of(' ');
        cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    }
    return cells;
}

// The README's key table is the loader's: same keys, order, type, required-ness and help.
TEST(ServerFileKeys, ReadmeTableIsTheLoadersTable) {
    std::ifstream in(kServerDir / "README.md");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_FALSE(lines.empty()) << "servers/README.md missing";
    using Row = std::tuple<std::string, std::string, std::string, std::string>;
    std::vector<Row> documented, accepted;
    bool in_table = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].rfind("| key | type | required | meaning |", 0) == 0) {
            in_table = true;
            ++i;
            continue;
        }
        if (!in_table) continue;
        if (lines[i].empty() || lines[i][0] != '|') break;
        const std::vector<std::string> cells = cells_of(lines[i]);
        ASSERT_EQ(cells.size(), 4u) << lines[i];
        documented.emplace_back(remove_backticks(cells[0]), cells[1], cells[2], remove_backticks(cells[3]));
    }
    ASSERT_TRUE(in_table);
    for (const ServerKey& k : kServerKeys)
        accepted.emplace_back(std::string(k.name), toml_entries::key_type(k), k.required ? "yes" : "no", std::string(k.help));
    EXPECT_EQ(documented.size(), accepted.size());
    for (std::size_t i = 0; i < std::min(documented.size(), accepted.size()); ++i)
        EXPECT_EQ(documented[i], accepted[i]) << "row " << i + 1 << " of the README's key table";
}

// A key's default is what a default ServerSpec holds, and its help says so.
TEST(ServerFileKeys, DefaultsAreServerSpecDefaults) {
    const ServerSpec blank;
    for (const ServerKey& k : kServerKeys) {
        SCOPED_TRACE(std::string(k.name));
        const std::string actual = std::visit(
            [&](auto field) -> std::string {
                const auto& v = blank.*field;
                if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) return v.empty() ? v : "\"" + v + "\"";
                else if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>) return v ? "true" : "false";
                else if constexpr (std::is_same_v<std::decay_t<decltype(v)>, int>) return std::to_string(v);
                else return v.empty() ? "" : "non-empty";
            },
            k.field);
        EXPECT_EQ(actual, k.default_value);
        if (!k.default_value.empty()) {
            EXPECT_NE(k.help.find("(default " + std::string(k.default_value) + ")"), std::string_view::npos);
        }
    }
}

class ServerFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/tmp/ilk-server-file-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }
    void expect_error(const std::string& text, int line, int column, const std::string& message) {
        const fs::path file = dir_ / "s.toml";
        std::ofstream(file) << text;
        try {
            load_servers({dir_});
            ADD_FAILURE() << "loaded without error, expected: " << message;
        } catch (const std::runtime_error& e) {
            EXPECT_EQ(e.what(), file.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message);
        }
    }
    fs::path dir_;
};

TEST_F(ServerFileTest, AValidEntryBecomesItsStrategies) {
    std::ofstream(dir_ / "s.toml") << kEntry << "model = \"pg-current\"\nshared_port_row = true\nstop_signal = \"SIGINT\"\n";
    const std::vector<ServerSpec> loaded = load_servers({dir_});
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[0].where, (dir_ / "s.toml").string() + ":1");
    EXPECT_EQ(stop_signal_number(loaded[0]), SIGINT);
    const std::vector<StrategySpec> rows = server_strategies(loaded[0]);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].name, "s");
    EXPECT_EQ(rows[0].template_name, "server");
    EXPECT_FALSE(rows[0].server->shared_port);
    EXPECT_EQ(rows[1].name, "s+shared-port");
    EXPECT_TRUE(rows[1].server->shared_port);
    // The spec travels to the contender as JSON, its place with it.
    StrategySpec placed = rows[0];
    placed.server->place = {"/x/sock", "/x/sock/B.log", "/x/sock/B-session.pid", 6002};
    const StrategySpec back = nlohmann::json(placed).get<StrategySpec>();
    ASSERT_TRUE(back.server);
    EXPECT_EQ(back.server->place.port, 6002);
    EXPECT_EQ(expand("{bin}/x -k {socket_dir} -p {port} {datadir} {session_pid_file}", *back.server, "/d"),
                     "/bin/x -k /x/sock -p 6002 /d /x/sock/B-session.pid");
}

TEST_F(ServerFileTest, MissingRequiredKey) {
    expect_error("[[server]]\nname = \"s\"\nsource = \"doc\"\n", 1, 1,
                 "missing required key 'user' in [[server]] #1; add user = \"...\"  # the user it runs as: the kit's own (ci/setup.sh "
                 "makes ilk-server), never root");
}

TEST_F(ServerFileTest, UnknownKeyGetsADidYouMean) {
    expect_error(kEntry + "stop_sginal = \"SIGINT\"\n", 9, 1, "unknown key 'stop_sginal' in [[server]] #1; did you mean 'stop_signal'?");
}

TEST_F(ServerFileTest, UnknownPlaceholder) {
    expect_error(kEntry + "session = [\"{bin}/psql\", \"-h\", \"{socketdir}\", \"{session_pid_file}\"]\n", 9, 11,
                 "unknown placeholder '{socketdir}' in 'session' in [[server]] #1; the kit replaces {bin}, {datadir}, {port}, "
                 "{socket_dir} and {session_pid_file}");
}

TEST_F(ServerFileTest, SessionMustNameItsPidFile) {
    expect_error(kEntry + "session = [\"{bin}/psql\"]\n", 9, 11,
                 "'session' in [[server]] #1 never names {session_pid_file}; its backend must write its PID there, so the kit knows "
                 "which process it is");
}

TEST_F(ServerFileTest, EmptyCommand) {
    expect_error("[[server]]\nname = \"s\"\nsource = \"doc\"\nuser = \"u\"\ninit = []\nstart = [\"x\"]\nready = [\"x\"]\n", 5, 8,
                 "'init' in [[server]] #1 is empty; write the program and its arguments, [\"program\", \"arg\", ...]");
}

TEST_F(ServerFileTest, StopSignalNotOneTheKitSends) {
    expect_error(kEntry + "stop_signal = \"SIGKILL\"\n", 9, 15,
                 "stop_signal 'SIGKILL' in [[server]] #1 is not one the kit sends; write \"SIGTERM\", \"SIGINT\" or \"SIGQUIT\"");
}

TEST_F(ServerFileTest, PidfileOutsideTheDataDirectory) {
    expect_error(kEntry + "pidfile = \"../postmaster.pid\"\n", 9, 11,
                 "pidfile '../postmaster.pid' in [[server]] #1 is not a name inside the data directory; write a file name without '/' "
                 "(\"postmaster.pid\")");
}

TEST_F(ServerFileTest, RootIsRefused) {
    expect_error("[[server]]\nname = \"s\"\nsource = \"doc\"\nuser = \"root\"\ninit = [\"x\"]\nstart = [\"x\"]\nready = [\"x\"]\n", 4, 8,
                 "user in [[server]] #1 is root; name the kit's own user (\"ilk-server\"): a server on trial never runs as root");
}

TEST_F(ServerFileTest, BadEvidenceRegex) {
    expect_error(kEntry + "evidence = \"FATAL(\"\n", 9, 12,
                 "evidence in [[server]] #1 is not a regular expression (Mismatched '(' and ')' in regular expression); write an "
                 "ECMAScript one, \"FATAL|PANIC\"");
}

TEST_F(ServerFileTest, BadWaitingLineRegex) {
    expect_error(kEntry + "waiting_line = \"[lock\"\n", 9, 16,
                 "waiting_line in [[server]] #1 is not a regular expression (Unexpected character within '[...]' in regular "
                 "expression); write an ECMAScript one, \"FATAL|PANIC\"");
}

// What the kit reads in a server's log: MariaDB's lines, as it writes them.
TEST(ServerLog, ReadyWaitingAndEvidenceLinesAndTheirFirstGroups) {
    ServerSpec s;
    s.ready_line = "ready for connections";
    s.waiting_line = "\\[ERROR\\] (.*Can't lock aria control file.*)\\. Will retry";
    s.evidence = "\\[ERROR\\] (.*)";
    const std::string starting = "2026-12-07  0:24:30 0 [Note] Starting MariaDB 10.11.19\n";
    const std::string waiting =
        starting + "2026-12-07  0:24:30 0 [ERROR] mariadbd: Can't lock aria control file '/d/aria_log_control' for exclusive use, "
                   "error: 11. Will retry for 30 seconds\n";
    EXPECT_FALSE(says_ready(s, starting));
    EXPECT_FALSE(says_waiting(s, starting));
    EXPECT_TRUE(says_ready(s, starting + "2026-12-07  0:24:31 0 [Note] /usr/sbin/mariadbd: ready for connections.\n"));
    EXPECT_EQ(says_waiting(s, waiting), "mariadbd: Can't lock aria control file '/d/aria_log_control' for exclusive use, error: 11");
    // The trial's data directory is left out of the paths, so one trial's evidence reads as another's.
    EXPECT_EQ(says_waiting(s, waiting, "/d"), "mariadbd: Can't lock aria control file 'aria_log_control' for exclusive use, error: 11");
    EXPECT_EQ(evidence_of(s, starting + "2026-12-07  0:25:39 0 [ERROR] InnoDB: Unable to lock ./ibdata1 error: 11\n"
                                        "2026-12-07  0:25:39 0 [ERROR] Aborting\n"),
              "InnoDB: Unable to lock ./ibdata1 error: 11 / Aborting");
    // Without a group, the whole line (PostgreSQL's evidence); without a waiting_line, never waiting.
    s.evidence = "FATAL";
    EXPECT_EQ(evidence_of(s, "FATAL:  lock file \"postmaster.pid\" already exists\n"), "FATAL:  lock file \"postmaster.pid\" already exists");
    s.waiting_line.clear();
    EXPECT_FALSE(says_waiting(s, waiting));
}

TEST_F(ServerFileTest, DefinedTwice) {
    expect_error(kEntry + kEntry, 10, 8,
                 "server 's' is defined twice (first at " + (dir_ / "s.toml").string() + ":1); rename one");
}

TEST_F(ServerFileTest, OnlyServerEntries) {
    expect_error(kEntry + "[strategy]\nname = \"x\"\n", 9, 2, "unknown table 'strategy'; server files hold only [[server]] entries");
}

// The shipped files load, and every server's model is a shipped strategy.
TEST(ShippedServers, LoadAndNameTheirModels) {
    const std::vector<ServerSpec> servers = load_servers({kServerDir});
    ASSERT_FALSE(servers.empty());
    const std::vector<StrategySpec> all = load_strategies_and_servers();
    for (const ServerSpec& s : servers) {
        SCOPED_TRACE(s.name);
        if (s.model.empty()) continue;
        EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const StrategySpec& st) { return st.name == s.model && !st.server; }));
    }
}

// A strategy file cannot name the server template: a server is described in servers/.
TEST(ServerTemplate, IsNotForStrategyFiles) {
    std::string tmpl = "/tmp/ilk-server-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    const fs::path dir = tmpl;
    std::ofstream(dir / "s.toml") << "[[strategy]]\nname = \"s\"\ntemplate = \"server\"\nsource = \"doc\"\n";
    try {
        load_strategies({dir});
        ADD_FAILURE() << "loaded";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), (dir / "s.toml").string() +
                                             ":3:12: template 'server' in [[strategy]] #1 is made from a [[server]] entry of servers/*.toml; "
                                             "describe the server there (servers/README.md)");
    }
    fs::remove_all(dir);
}

}  // namespace
}  // namespace ilk
