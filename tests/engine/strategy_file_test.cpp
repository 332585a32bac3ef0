// Strategy files: the README's key table against the loader's, one test per
// load_strategies() error message, and the shipped strategies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "engine/strategy.h"
#include "engine/strategy_keys.h"

namespace ilk {
namespace {

namespace fs = std::filesystem;

const fs::path kStrategyDir = fs::path(ILK_TEST_SOURCE_DIR) / "strategies";

// Lines 1-4 of most fixtures: a valid entry; keys added after it are on line 5.
const std::string kEntry = "[[strategy]]\nname = \"s\"\ntemplate = \"legacy-pid\"\nsource = \"doc\"\n";

std::string remove_backticks(std::string s) {
    std::erase(s, '`');
    return s;
}

// The cells of a markdown table row "| a | b |", trimmed, backticks kept.
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

std::vector<std::string> readme_lines() {
    std::ifstream in(kStrategyDir / "README.md");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// "yes", "no" or "for a, b": the README's "required" column for a key, backticks removed.
std::string required_word(const StrategyKey& key) {
    if (key.required) return "yes";
    if (key.needed_by == nullptr) return "no";
    std::string out = "for ";
    for (const auto& t : strategy_templates())
        if (t.*key.needed_by) out += std::string(out.size() > 4 ? ", " : "") + t.name;
    return out;
}

// The README's key table and the loader's key table must list the same keys,
// in the same order, with the same type, required-ness and help, so the docs
// cannot drift from what the loader accepts.
TEST(StrategyFileKeys, ReadmeTableIsTheLoadersTable) {
    const std::vector<std::string> lines = readme_lines();
    ASSERT_FALSE(lines.empty()) << "strategies/README.md missing";
    using Row = std::tuple<std::string, std::string, std::string, std::string>;
    std::vector<Row> documented;
    bool in_table = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].rfind("| key | type | required | meaning |", 0) == 0) {
            in_table = true;
            ++i;  // the |---| separator
            continue;
        }
        if (!in_table) continue;
        if (lines[i].empty() || lines[i][0] != '|') break;
        const std::vector<std::string> cells = cells_of(lines[i]);
        ASSERT_EQ(cells.size(), 4u) << lines[i];
        documented.emplace_back(remove_backticks(cells[0]), cells[1], remove_backticks(cells[2]),
                                remove_backticks(cells[3]));
    }
    ASSERT_TRUE(in_table) << "strategies/README.md has no '| key | type | required | meaning |' table";
    std::vector<Row> accepted;
    for (const StrategyKey& k : kStrategyKeys)
        accepted.emplace_back(std::string(k.name), strategy_key_type(k), required_word(k), std::string(k.help));
    // Row by row, so a failure names the one key that drifted.
    EXPECT_EQ(documented.size(), accepted.size()) << "the README's table and strategy_keys.h list different keys";
    for (std::size_t i = 0; i < std::min(documented.size(), accepted.size()); ++i)
        EXPECT_EQ(documented[i], accepted[i]) << "row " << i + 1 << " of the README's key table";
}

// Every template is described under "## Templates" and named in the help of 'template'.
TEST(StrategyFileKeys, ReadmeDescribesEveryTemplate) {
    std::set<std::string> described;
    for (const std::string& line : readme_lines())
        if (line.rfind("- `", 0) == 0 && line.find("`:") != std::string::npos)
            described.insert(line.substr(3, line.find("`:") - 3));
    std::set<std::string> templates;
    for (const auto& t : strategy_templates()) templates.insert(t.name);
    EXPECT_EQ(described, templates);
    for (const StrategyKey& k : kStrategyKeys) {
        if (k.name != "template") continue;
        for (const auto& t : strategy_templates())
            if (!t.server_files_only) {  // `server` is for servers/*.toml
                EXPECT_NE(k.help.find(t.name), std::string_view::npos) << t.name;
            }
    }
}

// A key's default is what a default StrategySpec holds, and its help says so.
TEST(StrategyFileKeys, DefaultsAreStrategySpecDefaults) {
    const StrategySpec blank;
    for (const StrategyKey& k : kStrategyKeys) {
        SCOPED_TRACE(std::string(k.name));
        const std::string actual = std::visit(
            [&](auto field) -> std::string {
                const auto& v = blank.*field;
                if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) return v.empty() ? v : "\"" + v + "\"";  // as TOML writes it
                else if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>) return v ? "true" : "false";
                else if constexpr (std::is_same_v<std::decay_t<decltype(v)>, int>) return std::to_string(v);
                else return v.empty() ? "" : "non-empty";  // arrays have no default
            },
            k.field);
        EXPECT_EQ(actual, k.default_value);
        EXPECT_FALSE(k.required && !k.default_value.empty()) << "a required key has no default";
        if (!k.default_value.empty()) {
            EXPECT_NE(k.help.find("(default " + std::string(k.default_value) + ")"), std::string_view::npos);
        }
    }
}

class StrategyFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/tmp/ilk-strategy-file-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    fs::path write(const std::string& name, const std::string& text) {
        const fs::path file = dir_ / name;
        std::ofstream(file) << text;
        return file;
    }

    // Loads `text` as s.toml and checks the whole "file:line:col: message".
    void expect_error(const std::string& text, int line, int column, const std::string& message) {
        const fs::path file = write("s.toml", text);
        expect_load_error(file, line, column, message);
    }
    void expect_load_error(const fs::path& file, int line, int column, const std::string& message) {
        try {
            load_strategies({dir_});
            ADD_FAILURE() << "loaded without error, expected: " << message;
        } catch (const std::runtime_error& e) {
            EXPECT_EQ(e.what(), file.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                                    message);
        }
    }

    fs::path dir_;
};

// --- valid files load as before ------------------------------------------------

TEST_F(StrategyFileTest, EveryKeyLands) {
    write("s.toml", "[[strategy]]\nname = \"h\"\ntemplate = \"hybrid\"\nsource = \"doc\"\nsummary = \"one line\"\n"
                    "lock = \"fcntl\"\nsegment = \"sysv\"\nstartup_lock = true\nbackends = 0\n");
    const std::vector<StrategySpec> loaded = load_strategies({dir_});
    ASSERT_EQ(loaded.size(), 1u);
    const StrategySpec& s = loaded[0];
    EXPECT_EQ(s.name, "h");
    EXPECT_EQ(s.template_name, "hybrid");
    EXPECT_EQ(s.source, "doc");
    EXPECT_EQ(s.summary, "one line");
    EXPECT_EQ(s.lock, "fcntl");
    EXPECT_EQ(s.segment, "sysv");
    EXPECT_TRUE(s.startup_lock);
    EXPECT_EQ(s.backends, 0);
    EXPECT_EQ(s.where, (dir_ / "s.toml").string() + ":1");
}

TEST_F(StrategyFileTest, AbsentKeysTakeTheirDefaults) {
    write("s.toml", "# comment\n" + kEntry);
    const std::vector<StrategySpec> loaded = load_strategies({dir_});
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[0].summary, "");
    EXPECT_EQ(loaded[0].lock, "");
    EXPECT_EQ(loaded[0].segment, "");
    EXPECT_FALSE(loaded[0].startup_lock);
    EXPECT_EQ(loaded[0].backends, 1);
    EXPECT_EQ(loaded[0].where, (dir_ / "s.toml").string() + ":2");
}

TEST_F(StrategyFileTest, BackendsRangeEndsAreAccepted) {
    write("s.toml", kEntry + "backends = 16\n");
    EXPECT_EQ(load_strategies({dir_}).at(0).backends, 16);
}

TEST_F(StrategyFileTest, FileWithoutStrategiesLoadsNothing) {
    write("s.toml", "# nothing yet\n");
    write("notes.txt", "not toml");
    EXPECT_TRUE(load_strategies({dir_}).empty());
}

// --- one test per error message ----------------------------------------------------

// The words are toml++'s and may change with its version; the position is ours to keep.
TEST_F(StrategyFileTest, SyntaxErrorUsesParserPosition) {
    const fs::path file = write("s.toml", "[[strategy]]\nname = \n");
    try {
        load_strategies({dir_});
        FAIL() << "syntax error not reported";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind(file.string() + ":2:8: ", 0), 0u) << what;
        EXPECT_NE(what.find("expected value"), std::string::npos) << what;
    }
}

TEST_F(StrategyFileTest, UnknownTableWithDidYouMean) {
    expect_error("[[stratgy]]\nname = \"s\"\n", 1, 3,
                 "unknown table 'stratgy' (did you mean 'strategy'?); strategy files hold only [[strategy]] entries");
}

TEST_F(StrategyFileTest, UnknownTable) {
    expect_error(kEntry + "[server]\nport = 1\n", 5, 2,
                 "unknown table 'server'; strategy files hold only [[strategy]] entries");
}

TEST_F(StrategyFileTest, KeyOutsideAnyEntry) {
    expect_error("name = \"s\"\n" + kEntry, 1, 1,
                 "key 'name' is outside any [[strategy]] entry; move it below a [[strategy]] line");
}

TEST_F(StrategyFileTest, StrategyNotAnArrayOfTables) {
    expect_error("[strategy]\nname = \"s\"\n", 1, 1,
                 "'strategy' is a table; write each strategy as a [[strategy]] entry (two brackets)");
}

TEST_F(StrategyFileTest, EntryNotATable) {
    expect_error("strategy = [\"legacy-pid\"]\n", 1, 13,
                 "[[strategy]] entries must be tables, got string; write each as a [[strategy]] section of keys");
}

TEST_F(StrategyFileTest, UnknownKeyWithDidYouMean) {
    expect_error(kEntry + "segmnt = \"sysv\"\n", 5, 1,
                 "unknown key 'segmnt' in [[strategy]] #1; did you mean 'segment'?");
}

TEST_F(StrategyFileTest, UnknownKeyListsTheKeys) {
    expect_error(kEntry + "\n" + kEntry + "colour = \"red\"\n", 10, 1,
                 "unknown key 'colour' in [[strategy]] #2; keys: name, template, source, summary, lock, segment, "
                 "startup_lock, backends, command, ready_file, settle_ms, lock_file, write_pid, lock_wait_ms, stale_ms, rechecks, recheck_ms");
}

TEST_F(StrategyFileTest, MissingRequiredKey) {
    expect_error("[[strategy]]\ntemplate = \"legacy-pid\"\nsource = \"doc\"\n", 1, 1,
                 "missing required key 'name' in [[strategy]] #1; add name = \"...\"  # the strategy's name in "
                 "reports and on the command line (unique)");
    expect_error("[[strategy]]\nname = \"s\"\nsource = \"doc\"\n", 1, 1,
                 "missing required key 'template' in [[strategy]] #1; add template = \"...\"  # legacy-pid, tom-2004, "
                 "lifetime-lock, pg-current, hybrid, link-lockfile or command");
    expect_error(kEntry + "\n[[strategy]]\nname = \"t\"\ntemplate = \"legacy-pid\"\n", 6, 1,
                 "missing required key 'source' in [[strategy]] #2; add source = \"...\"  # where the protocol comes "
                 "from (a message, a file, a man page)");
}

TEST_F(StrategyFileTest, WrongTypeForStringKey) {
    expect_error(kEntry + "summary = 3\n", 5, 11,
                 "expected a string (in quotes) for 'summary' in [[strategy]] #1, got integer");
    expect_error("[[strategy]]\nname = [\"a\"]\n", 2, 8,
                 "expected a string (in quotes) for 'name' in [[strategy]] #1, got array");
}

TEST_F(StrategyFileTest, StartupLockNotABoolean) {
    expect_error(kEntry + "startup_lock = \"yes\"\n", 5, 16,
                 "expected true or false for 'startup_lock' in [[strategy]] #1, got string");
}

TEST_F(StrategyFileTest, BackendsOutOfRange) {
    expect_error(kEntry + "backends = 17\n", 5, 12,
                 "expected an integer from 0 to 16 for 'backends' in [[strategy]] #1, got 17");
    expect_error(kEntry + "backends = -1\n", 5, 12,
                 "expected an integer from 0 to 16 for 'backends' in [[strategy]] #1, got -1");
}

TEST_F(StrategyFileTest, BackendsNotAnInteger) {
    expect_error(kEntry + "backends = 1.5\n", 5, 12,
                 "expected an integer from 0 to 16 for 'backends' in [[strategy]] #1, got float");
    expect_error(kEntry + "backends = \"2\"\n", 5, 12,
                 "expected an integer from 0 to 16 for 'backends' in [[strategy]] #1, got string");
}

TEST_F(StrategyFileTest, LockFileStaysInsideTheDataDirectory) {
    for (const char* bad : {"../../etc/passwd", "sub/x", "..", ""})
        expect_error(std::string("[[strategy]]\nname = \"x\"\ntemplate = \"lifetime-lock\"\nsource = \"doc\"\nlock = \"flock\"\nlock_file = \"") +
                         bad + "\"\n",
                     6, 13,
                     std::string("lock_file '") + bad +
                         "' in [[strategy]] #1 is not a name inside the data directory; write a file name without '/' "
                         "(\"postmaster.pid\"), or \".\" for the data directory itself");
}

TEST_F(StrategyFileTest, UnknownTemplateWithDidYouMean) {
    expect_error("[[strategy]]\nname = \"s\"\ntemplate = \"tom-2040\"\nsource = \"doc\"\n", 3, 12,
                 "unknown template 'tom-2040' in [[strategy]] #1 (did you mean 'tom-2004'?); templates: legacy-pid, "
                 "tom-2004, lifetime-lock, pg-current, hybrid, link-lockfile, command");
    expect_error("[[strategy]]\nname = \"s\"\ntemplate = \"zzz\"\nsource = \"doc\"\n", 3, 12,
                 "unknown template 'zzz' in [[strategy]] #1; templates: legacy-pid, tom-2004, lifetime-lock, "
                 "pg-current, hybrid, link-lockfile, command");
}

TEST_F(StrategyFileTest, TemplateNeedsLock) {
    const std::string message =
        "template 'lifetime-lock' needs 'lock' in [[strategy]] #1; add lock = \"...\"  # the lock "
        "primitive: flock, fcntl, ofd, lockf, or one a plugin adds";
    expect_error("[[strategy]]\nname = \"s\"\ntemplate = \"lifetime-lock\"\nsource = \"doc\"\n", 1, 1, message);
    expect_error("[[strategy]]\nname = \"s\"\ntemplate = \"lifetime-lock\"\nsource = \"doc\"\nlock = \"\"\n", 1, 1,
                 message);
}

TEST_F(StrategyFileTest, TemplateNeedsSegment) {
    expect_error("[[strategy]]\nname = \"s\"\ntemplate = \"hybrid\"\nsource = \"doc\"\nlock = \"fcntl\"\n", 1, 1,
                 "template 'hybrid' needs 'segment' in [[strategy]] #1; add segment = \"...\"  # the "
                 "segment primitive: sysv, sysv-huge, hugetlbfs");
}

TEST_F(StrategyFileTest, TemplateNeedsCommand) {
    expect_error("[[strategy]]\nname = \"s\"\ntemplate = \"command\"\nsource = \"doc\"\n", 1, 1,
                 "template 'command' needs 'command' in [[strategy]] #1; add command = [\"...\"]  # command: the program "
                 "and its arguments; {datadir} is replaced by the data directory");
    expect_error("[[strategy]]\nname = \"s\"\ntemplate = \"command\"\nsource = \"doc\"\ncommand = [\"x\", 1]\n", 5, 17,
                 "expected a string (in quotes) in 'command' in [[strategy]] #1, got integer");
}

TEST_F(StrategyFileTest, StrategyDefinedTwice) {
    const fs::path file = dir_ / "s.toml";
    expect_error(kEntry + "\n" + kEntry, 7, 8,
                 "strategy 's' is defined twice (first at " + file.string() + ":1); rename one");
}

TEST_F(StrategyFileTest, StrategyDefinedTwiceAcrossFiles) {
    const fs::path first = write("a.toml", kEntry);
    const fs::path second = write("b.toml", "\n" + kEntry);
    expect_load_error(second, 3, 8, "strategy 's' is defined twice (first at " + first.string() + ":1); rename one");
}

// --- the shipped strategies --------------------------------------------------------

TEST(StrategyFileShipped, EveryDefaultStrategyLoads) {
    const fs::path file = kStrategyDir / "default.toml";
    std::ifstream in(file);
    ASSERT_TRUE(in) << file;
    std::vector<std::string> defined;
    for (std::string line; std::getline(in, line);)
        if (line.rfind("name = \"", 0) == 0) defined.push_back(line.substr(8, line.size() - 9));
    ASSERT_FALSE(defined.empty());
    std::vector<std::string> loaded;
    for (const StrategySpec& s : load_strategies({kStrategyDir})) {
        if (s.where.rfind(file.string() + ":", 0) != 0) continue;
        loaded.push_back(s.name);
        const StrategyTemplate* t = find_template(s.template_name);
        ASSERT_NE(t, nullptr) << s.name;
        EXPECT_FALSE(s.source.empty()) << s.name;
        EXPECT_FALSE(s.summary.empty()) << s.name;
    }
    EXPECT_EQ(loaded, defined);
}

}  // namespace
}  // namespace ilk
