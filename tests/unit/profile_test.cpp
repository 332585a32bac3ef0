// Platform profiles: one test per loader error message, the shipped profiles,
// the README's key table, and the comparison outcomes.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "profile.h"
#include "profile_keys.h"

namespace ilk {
namespace {

namespace fs = std::filesystem;

// Lines 1-3 of most fixtures; [[expect]] entries start on line 4.
const std::string kPlatform = "[platform]\nname = \"p\"\nos = \"Linux\"\n";

std::string expect_entry(const std::string& fact, const std::string& extra = "") {
    return "[[expect]]\nfact = \"" + fact + "\"\nvalue = true\nsource = \"doc\"\n" + extra;
}

class ProfileTest : public ::testing::Test {
protected:
    void SetUp() override {
        const char* tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ilk-profile-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        if (dir_.empty()) return;
        for (const auto& entry : fs::recursive_directory_iterator(dir_, ec))
            fs::permissions(entry.path(), fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(dir_, ec);
    }

    fs::path write(const std::string& name, const std::string& text) {
        const fs::path file = dir_ / name;
        fs::create_directories(file.parent_path());
        std::ofstream(file) << text;
        return file;
    }

    // Loads `text` as p.toml and checks the whole "file:line:col: message".
    void expect_error(const std::string& text, int line, int column, const std::string& message,
                      const std::string& name = "p.toml") {
        expect_error_at(write(name, text), line, column, message);
    }
    void expect_error_at(const fs::path& file, int line, int column, const std::string& message) {
        try {
            load_profile(file);
            ADD_FAILURE() << "loaded without error, expected: " << message;
        } catch (const ProfileError& e) {
            EXPECT_EQ(e.what(), file.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                                    message);
            EXPECT_EQ(e.where().file, file.string());
        }
    }

    fs::path dir_;
};

// --- one test per loader error message ---------------------------------------

TEST_F(ProfileTest, SyntaxErrorUsesParserPosition) {
    const fs::path file = write("p.toml", "[platform]\nname = \n");
    try {
        load_profile(file);
        FAIL() << "syntax error not reported";
    } catch (const ProfileError& e) {
        EXPECT_EQ(e.where().line, 2);
        EXPECT_EQ(e.where().column, 8);
        EXPECT_NE(std::string(e.what()).find(file.string() + ":2:8: "), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("expected value"), std::string::npos) << e.what();
    }
}

TEST_F(ProfileTest, MissingFile) {
    expect_error_at(dir_ / "nope.toml", 0, 0, "cannot read profile: no such file; check the path or ILK_PLATFORM_PATH");
}

TEST_F(ProfileTest, NotARegularFile) {
    fs::create_directory(dir_ / "d.toml");
    expect_error_at(dir_ / "d.toml", 0, 0, "cannot read profile: not a regular file");
}

TEST_F(ProfileTest, UnreadableFile) {
    if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
    const fs::path file = write("p.toml", kPlatform);
    fs::permissions(file, fs::perms::none);
    expect_error_at(file, 0, 0, std::string("cannot read profile: ") + std::strerror(EACCES));
}

TEST_F(ProfileTest, MissingPlatformTable) {
    expect_error("# no platform\n" + expect_entry("process.kill0_reports_zombie_alive"), 1, 1,
                 "missing [platform] table; add one with name and os (see platforms/README.md)");
}

TEST_F(ProfileTest, PlatformNotATable) {
    expect_error("platform = \"p\"\n", 1, 12, "expected a table for platform, got string");
}

TEST_F(ProfileTest, MissingRequiredPlatformKeyPointsAtTable) {
    expect_error("\n[platform]\nname = \"p\"\n", 2, 1, "missing required key 'os' in [platform]");
}

TEST_F(ProfileTest, MissingRequiredExpectKeyPointsAtEntry) {
    expect_error(kPlatform + "\n[[expect]]\nfact = \"locks.fcntl.supported\"\nvalue = true\n", 5, 1,
                 "missing required key 'source' in [[expect]] #1");
}

TEST_F(ProfileTest, WrongTypePointsAtValue) {
    expect_error("[platform]\nname = 3\nos = \"Linux\"\n", 2, 8, "expected a string for platform.name, got integer");
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.fcntl.supported\"\nvalue = true\nsource = 1\n", 7, 10,
                 "expected a string for source of [[expect]] #1, got integer");
}

TEST_F(ProfileTest, WrongTypeForValue) {
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.fcntl.supported\"\nvalue = 1.5\nsource = \"doc\"\n", 6, 9,
                 "expected a bool, integer, string or array of strings for value of [[expect]] #1, got float");
}

TEST_F(ProfileTest, WrongTypeInValueArray) {
    expect_error(kPlatform +
                     "[[expect]]\nfact = \"process.pid_reuse_methods\"\nvalue = [\"a\", 2]\nsource = \"doc\"\n",
                 6, 15, "expected a string for value[1] of [[expect]] #1, got integer");
}

TEST_F(ProfileTest, MissingClaimPointsAtEntry) {
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.fcntl.supported\"\nsource = \"doc\"\n", 4, 1,
                 "missing the claim in [[expect]] #1: give value or at_most (see platforms/README.md)");
}

TEST_F(ProfileTest, TwoClaimsPointAtTheLaterOne) {
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.*.handover_ms\"\nat_most = 100\nvalue = 3\nsource = \"doc\"\n", 7, 9,
                 "more than one claim in [[expect]] #1: give value or at_most, not both");
}

TEST_F(ProfileTest, WrongTypeForAtMost) {
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.*.handover_ms\"\nat_most = \"100 ms\"\nsource = \"doc\"\n", 6, 11,
                 "expected a number for at_most of [[expect]] #1, got string");
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.*.handover_ms\"\nat_most = true\nsource = \"doc\"\n", 6, 11,
                 "expected a number for at_most of [[expect]] #1, got bool");
}

TEST_F(ProfileTest, AtMostMustBeFiniteAndNotNegative) {
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.*.handover_ms\"\nat_most = -1\nsource = \"doc\"\n", 6, 11,
                 "at_most of [[expect]] #1 must be a finite number, 0 or more; got -1");
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.*.handover_ms\"\nat_most = nan\nsource = \"doc\"\n", 6, 11,
                 "at_most of [[expect]] #1 must be a finite number, 0 or more; got nan");
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.*.handover_ms\"\nat_most = inf\nsource = \"doc\"\n", 6, 11,
                 "at_most of [[expect]] #1 must be a finite number, 0 or more; got inf");
}

TEST_F(ProfileTest, AtMostOnlyBoundsNumericFacts) {
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.*.released_on_holder_kill\"\nat_most = 100\nsource = \"doc\"\n", 6,
                 11,
                 "at_most of [[expect]] #1 bounds a number, but 'locks.*.released_on_holder_kill' is not a numeric fact; "
                 "claim it with value, or bound a numeric fact: locks.<primitive>.handover_ms, "
                 "segments.<primitive>.attach_count_after_creator_kill");
}

TEST_F(ProfileTest, ExpectMustBeArrayOfTables) {
    expect_error(kPlatform + "[expect]\nfact = \"locks.fcntl.supported\"\n", 4, 1,
                 "expected an array of tables ([[expect]]) for expect, got table");
}

TEST_F(ProfileTest, ExpectEntryMustBeTable) {
    expect_error("expect = [1]\n" + kPlatform, 1, 11, "expected a table for [[expect]] #1, got integer");
}

TEST_F(ProfileTest, UnknownKeyWithDidYouMean) {
    expect_error(kPlatform + expect_entry("locks.fcntl.supported") + expect_entry("locks.ofd.supported") +
                     "[[expect]]\nfact = \"locks.flock.supported\"\nvalue = true\nsorce = \"doc\"\n",
                 15, 1, "unknown key 'sorce' in [[expect]] #3; did you mean 'source'?");
}

TEST_F(ProfileTest, UnknownKeyListsKnownKeys) {
    expect_error(kPlatform + "colour = \"red\"\n", 4, 1,
                 "unknown key 'colour' in [platform]; expected one of: name, os, summary, targets");
}

TEST_F(ProfileTest, UnknownTopLevelTable) {
    expect_error("[platfrom]\nname = \"p\"\n", 1, 2, "unknown top-level table [platfrom]; did you mean 'platform'?");
}

TEST_F(ProfileTest, UnexpectedTopLevelKey) {
    expect_error("name = \"p\"\n" + kPlatform, 1, 1,
                 "unexpected top-level key 'name'; keys belong in [platform] or an [[expect]] entry");
}

TEST_F(ProfileTest, UnknownFactNameWithDidYouMean) {
    expect_error(kPlatform + expect_entry("locks.fcntl.released_on_holder_kil"), 5, 8,
                 "unknown lock fact 'released_on_holder_kil' in fact id 'locks.fcntl.released_on_holder_kil'; "
                 "did you mean 'released_on_holder_kill'?");
    expect_error(kPlatform + expect_entry("segments.sysv.attach_count"), 5, 8,
                 "unknown segment fact 'attach_count' in fact id 'segments.sysv.attach_count'; expected one of: "
                 "supported, attach_count_visible, attach_count_after_creator_kill, attach_after_rmid");
    expect_error(kPlatform + expect_entry("process.*"), 5, 8,
                 "unknown process fact '*' in fact id 'process.*'; expected one of: kill0_reports_zombie_alive, "
                 "kill0_foreign_uid_errno, pid_reuse_methods");
}

TEST_F(ProfileTest, UnknownSubject) {
    expect_error(kPlatform + expect_entry("lock.fcntl.supported"), 5, 8,
                 "unknown subject 'lock' in fact id 'lock.fcntl.supported'; did you mean 'locks'?");
}

TEST_F(ProfileTest, MalformedFactId) {
    expect_error(kPlatform + expect_entry("locks.fcntl"), 5, 8,
                 "malformed fact id 'locks.fcntl': expected locks.<primitive>.<lock fact>");
    expect_error(kPlatform + expect_entry("locks.fcntl.supported.x"), 5, 8,
                 "malformed fact id 'locks.fcntl.supported.x': expected locks.<primitive>.<lock fact>");
    expect_error(kPlatform + expect_entry("locks.fcntl.conflicts_with"), 5, 8,
                 "malformed fact id 'locks.fcntl.conflicts_with': expected locks.<primitive>.conflicts_with.<primitive>");
    expect_error(kPlatform + expect_entry("segments.sysv.supported.x"), 5, 8,
                 "malformed fact id 'segments.sysv.supported.x': expected segments.<primitive>.<segment fact>");
    expect_error(kPlatform + expect_entry("process.kill0_reports_zombie_alive.x"), 5, 8,
                 "malformed fact id 'process.kill0_reports_zombie_alive.x': expected process.<process fact>");
}

TEST_F(ProfileTest, BadPrimitiveName) {
    expect_error(kPlatform + expect_entry("locks.FCNTL.supported"), 5, 8,
                 "bad primitive name 'FCNTL' in fact id 'locks.FCNTL.supported': use lowercase letters, digits "
                 "and '-', or '*' for any primitive");
    expect_error(kPlatform + expect_entry("locks.fcntl.conflicts_with.o_fd"), 5, 8,
                 "bad primitive name 'o_fd' in fact id 'locks.fcntl.conflicts_with.o_fd': use lowercase letters, "
                 "digits and '-', or '*' for any primitive");
}

TEST_F(ProfileTest, EmptySource) {
    expect_error(kPlatform + "[[expect]]\nfact = \"locks.fcntl.supported\"\nvalue = true\nsource = \" \"\n", 7, 10,
                 "empty source in [[expect]] #1: name the documentation that makes the claim");
}

TEST_F(ProfileTest, EmptyOs) {
    expect_error("[platform]\nname = \"p\"\nos = \"\"\n", 3, 6,
                 "empty platform.os: give the uname sysname the profile applies to");
}

TEST_F(ProfileTest, NameMustMatchFileStem) {
    expect_error("[platform]\nname = \"linx\"\nos = \"Linux\"\n", 2, 8,
                 "platform.name 'linx' does not match the file name 'linux.toml'; set name = \"linux\" or rename "
                 "the file",
                 "linux.toml");
}

TEST_F(ProfileTest, ClientFactIds) {
    expect_error(kPlatform + expect_entry("clients.fcntl.excludes_other_client"), 5, 8,
                 "malformed fact id 'clients.fcntl.excludes_other_client': expected clients.locks.<primitive>.<client lock fact>");
    expect_error(kPlatform + expect_entry("clients.locks.fcntl.excludes_other_process"), 5, 8,
                 "unknown client lock fact 'excludes_other_process' in fact id 'clients.locks.fcntl.excludes_other_process'"
                 "; did you mean 'excludes_other_client'?");
    expect_error(kPlatform + expect_entry("clients.locks.fcntl.conflicts_with"), 5, 8,
                 "malformed fact id 'clients.locks.fcntl.conflicts_with': expected clients.locks.<primitive>.conflicts_with.<primitive>");
    const fs::path file = write("p.toml", kPlatform + expect_entry("clients.locks.*.conflicts_with.*"));
    EXPECT_EQ(load_profile(file).expectations.at(0).fact, "clients.locks.*.conflicts_with.*");
}

TEST_F(ProfileTest, AFactMayBeClaimedOncePerSetOfTargets) {
    const std::string scoped = "[[expect]]\nfact = \"locks.*.supported\"\nvalue = false\ntargets = [\"nfs3\"]\nsource = \"s\"\n";
    const fs::path file = write("p.toml", kPlatform + expect_entry("locks.*.supported") + scoped);
    const PlatformProfile p = load_profile(file);
    ASSERT_EQ(p.expectations.size(), 2u);
    EXPECT_EQ(p.expectations[1].targets, std::vector<std::string>{"nfs3"});
    expect_error(kPlatform + scoped + scoped, 10, 8, "duplicate fact 'locks.*.supported' for targets nfs3 in [[expect]] #2; first expected at line 4");
}

TEST_F(ProfileTest, DuplicateFact) {
    expect_error(kPlatform + expect_entry("locks.*.supported") + expect_entry("locks.*.supported"), 9, 8,
                 "duplicate fact 'locks.*.supported' in [[expect]] #2; first expected at line 4");
}

// --- what loads -----------------------------------------------------------------

TEST_F(ProfileTest, LoadsEveryKeyAndValueType) {
    const fs::path file = write("p.toml", "[platform]\nname = \"p\"\nos = \"Linux\"\nsummary = \"s\"\n"
                                          "[[expect]]\nfact = \"locks.*.conflicts_with.*\"\nvalue = false\n"
                                          "source = \"a\"\nnote = \"n\"\nknown_deviation = \"k\"\n"
                                          "[[expect]]\nfact = \"segments.sysv-huge.attach_count_after_creator_kill\"\n"
                                          "value = 1\nsource = \"b\"\n"
                                          "[[expect]]\nfact = \"process.kill0_foreign_uid_errno\"\nvalue = \"EPERM\"\n"
                                          "source = \"c\"\n"
                                          "[[expect]]\nfact = \"process.pid_reuse_methods\"\nvalue = [\"x\", \"y\"]\n"
                                          "source = \"d\"\n");
    const PlatformProfile p = load_profile(file);
    EXPECT_EQ(p.name, "p");
    EXPECT_EQ(p.os, "Linux");
    EXPECT_EQ(p.summary, "s");
    EXPECT_EQ(p.file, file);
    ASSERT_EQ(p.expectations.size(), 4u);
    const Expectation& first = p.expectations[0];
    EXPECT_EQ(first.fact, "locks.*.conflicts_with.*");
    EXPECT_EQ(first.value, nlohmann::json(false));
    EXPECT_EQ(first.source, "a");
    EXPECT_EQ(first.note, "n");
    EXPECT_EQ(first.known_deviation, "k");
    EXPECT_EQ(first.where.line, 5);
    EXPECT_EQ(first.where.column, 1);
    EXPECT_EQ(p.expectations[1].value, nlohmann::json(1));
    EXPECT_EQ(p.expectations[2].value, nlohmann::json("EPERM"));
    EXPECT_EQ(p.expectations[3].value, (nlohmann::json{"x", "y"}));
}

TEST_F(ProfileTest, LoadsBounds) {
    const fs::path file = write("p.toml", kPlatform +
                                              "[[expect]]\nfact = \"locks.*.handover_ms\"\nat_most = 100\nsource = \"a\"\n"
                                              "[[expect]]\nfact = \"segments.sysv.attach_count_after_creator_kill\"\n"
                                              "at_most = 0.5\nsource = \"b\"\n"
                                              "[[expect]]\nfact = \"locks.ofd.handover_ms\"\nat_most = 0\nsource = \"c\"\n");
    const PlatformProfile p = load_profile(file);
    ASSERT_EQ(p.expectations.size(), 3u);
    EXPECT_EQ(p.expectations[0].value, (nlohmann::json{{"at_most", 100}}));
    EXPECT_TRUE(p.expectations[0].value["at_most"].is_number_integer());
    EXPECT_EQ(p.expectations[1].value, (nlohmann::json{{"at_most", 0.5}}));
    EXPECT_EQ(p.expectations[2].value, (nlohmann::json{{"at_most", 0}}));
    EXPECT_EQ(expected_text(p.expectations[0].value), "at most 100");
    EXPECT_EQ(expected_text(p.expectations[1].value), "at most 0.5");
    EXPECT_EQ(expected_text(nlohmann::json(true)), "true");
    EXPECT_EQ(expected_text(nlohmann::json("EPERM")), "\"EPERM\"");
}

TEST_F(ProfileTest, ExpectationsAreOptional) {
    EXPECT_TRUE(load_profile(write("p.toml", kPlatform)).expectations.empty());
}

TEST(ShippedProfiles, AllLoadAndNameTheirOs) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(ILK_SOURCE_PLATFORM_DIR)) {
        if (entry.path().extension() != ".toml") continue;
        SCOPED_TRACE(entry.path().string());
        PlatformProfile p;
        ASSERT_NO_THROW(p = load_profile(entry.path()));
        EXPECT_FALSE(p.expectations.empty());
        names.insert(p.name);
    }
    EXPECT_EQ(names, (std::set<std::string>{"freebsd", "hpux", "linux", "macos", "solaris"}));
    const std::vector<fs::path> dirs{ILK_SOURCE_PLATFORM_DIR};
    EXPECT_EQ(profile_for_os("Linux", dirs).name, "linux");
    EXPECT_EQ(profile_for_os("FreeBSD", dirs).name, "freebsd");
    EXPECT_EQ(profile_for_os("Darwin", dirs).name, "macos");
    EXPECT_EQ(profile_for_os("HP-UX", dirs).name, "hpux");
    EXPECT_EQ(profile_for_os("SunOS", dirs).name, "solaris");
    // Linux bounds the hand-over time: a lock that comes late is a deviation.
    const PlatformProfile linux_profile = find_profile("linux", dirs);
    const auto bound = std::find_if(linux_profile.expectations.begin(), linux_profile.expectations.end(),
                                    [](const Expectation& e) { return e.fact == "locks.*.handover_ms"; });
    ASSERT_NE(bound, linux_profile.expectations.end());
    EXPECT_EQ(bound->value, (nlohmann::json{{"at_most", 100}}));
    EXPECT_FALSE(bound->source.empty());
}

// The README's key table and the loader's key table must list the same keys
// with the same type and required column (yes, no, one of value, at_most), so
// the docs cannot drift.
TEST(ProfileReadme, DocumentsExactlyTheAcceptedKeys) {
    std::ifstream in(fs::path(ILK_SOURCE_PLATFORM_DIR) / "README.md");
    ASSERT_TRUE(in) << "platforms/README.md missing";
    using Row = std::tuple<std::string, std::string, std::string>;  // key, type, required
    std::set<Row> documented;
    std::string line;
    bool in_table = false;
    while (std::getline(in, line)) {
        if (line.rfind("| key | type | required | meaning |", 0) == 0) {
            in_table = true;
            std::getline(in, line);  // the |---| separator
            continue;
        }
        if (!in_table) continue;
        if (line.empty() || line[0] != '|') break;
        std::vector<std::string> cells;
        std::stringstream row(line.substr(1));
        for (std::string cell; std::getline(row, cell, '|');) {
            const auto b = cell.find_first_not_of(" `");
            const auto e = cell.find_last_not_of(" `");
            cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
        }
        ASSERT_GE(cells.size(), 4u) << line;
        EXPECT_FALSE(cells[3].empty()) << line;
        documented.emplace(cells[0], cells[1], cells[2]);
    }
    std::set<Row> accepted;
    for (const ProfileKey& k : profile_keys())
        accepted.emplace(std::string(k.section) + "." + std::string(k.name), std::string(k.type), required_text(k));
    EXPECT_EQ(documented, accepted);
    EXPECT_EQ(required_text({"expect", "value", kKeyTypeValue, KeyNeed::one_claim, ""}), "one of value, at_most");
    EXPECT_EQ(required_text({"expect", "source", kKeyTypeString, KeyNeed::required, ""}), "yes");
    EXPECT_EQ(required_text({"expect", "note", kKeyTypeString, KeyNeed::optional, ""}), "no");
}

// --- closest_match ----------------------------------------------------------------

TEST(ClosestMatch, AcceptsSmallEditDistances) {
    const std::vector<std::string> keys{"fact", "value", "source", "note", "known_deviation"};
    EXPECT_EQ(closest_match("sorce", keys), "source");
    EXPECT_EQ(closest_match("valeu", keys), "value");
    EXPECT_EQ(closest_match("know_devation", keys), "known_deviation");
    EXPECT_EQ(closest_match("xyzzy", keys), "");
    EXPECT_EQ(closest_match("anything", {}), "");
    // len/3 widens the window for long words: 4 edits on a 12-letter word pass, 3 on a 6-letter one do not.
    EXPECT_EQ(closest_match("abcdefghijkl", {"abcdefghWXYZ"}), "abcdefghWXYZ");
    EXPECT_EQ(closest_match("abcdef", {"abcXYZ"}), "");
}

// --- profile directories and lookup -------------------------------------------------

TEST_F(ProfileTest, ProfileDirsHonourEnvironmentFirst) {
    const char* old = std::getenv("ILK_PLATFORM_PATH");
    const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
    const std::string env = dir_.string() + ":" + (dir_ / "missing").string() + "::" + dir_.string();
    setenv("ILK_PLATFORM_PATH", env.c_str(), 1);
    const std::vector<fs::path> dirs = profile_dirs();
    if (saved) setenv("ILK_PLATFORM_PATH", saved->c_str(), 1); else unsetenv("ILK_PLATFORM_PATH");
    ASSERT_FALSE(dirs.empty());
    EXPECT_EQ(dirs.front(), dir_);
    EXPECT_EQ(std::count(dirs.begin(), dirs.end(), dir_), 1);
    for (const auto& d : dirs) EXPECT_TRUE(fs::is_directory(d)) << d;
    EXPECT_NE(std::find_if(dirs.begin(), dirs.end(),
                           [](const fs::path& d) { return fs::equivalent(d, ILK_SOURCE_PLATFORM_DIR); }),
              dirs.end());
}

TEST_F(ProfileTest, FindProfileFirstDirectoryWins) {
    write("a/linux.toml", "[platform]\nname = \"linux\"\nos = \"Override\"\n");
    const std::vector<fs::path> dirs{dir_ / "a", ILK_SOURCE_PLATFORM_DIR};
    EXPECT_EQ(find_profile("linux", dirs).os, "Override");
    EXPECT_EQ(find_profile("hpux", dirs).os, "HP-UX");
    EXPECT_EQ(profile_for_os("Override", dirs).name, "linux");
    EXPECT_EQ(profile_for_os("Plan9", dirs).name, "");
}

TEST_F(ProfileTest, FindProfileErrorListsWhatExists) {
    write("a/linux.toml", "[platform]\nname = \"linux\"\nos = \"Linux\"\n");
    write("a/macos.toml", "[platform]\nname = \"macos\"\nos = \"Darwin\"\n");
    const std::vector<fs::path> dirs{dir_ / "a"};
    try {
        find_profile("linus", dirs);
        FAIL() << "found a profile that does not exist";
    } catch (const ProfileError& e) {
        EXPECT_EQ(std::string(e.what()), "linus.toml:0:0: no platform profile 'linus' in " + (dir_ / "a").string() +
                                             "; available: linux, macos (did you mean 'linux'?); add linus.toml to a "
                                             "directory in ILK_PLATFORM_PATH");
    }
    EXPECT_THROW(find_profile("linux", {}), ProfileError);
}

// --- compare ----------------------------------------------------------------------

Fact measured(const std::string& id, nlohmann::json value) { return Fact{id, true, std::move(value), "", {}, 0}; }
Fact unmeasured(const std::string& id, const std::string& reason) { return Fact{id, false, nullptr, reason, {}, 0}; }

PlatformProfile profile_with(std::vector<std::pair<std::string, nlohmann::json>> claims, std::string known = "") {
    PlatformProfile p;
    for (auto& [fact, value] : claims) {
        Expectation e;
        e.fact = fact;
        e.value = std::move(value);
        e.source = "doc";
        e.known_deviation = known;
        p.expectations.push_back(std::move(e));
    }
    return p;
}

FactSet facts_of(std::vector<Fact> list) {
    FactSet set;
    for (auto& f : list) set.emplace(f.id, std::move(f));
    return set;
}

TEST(Compare, OutcomesForPlainClaims) {
    const FactSet facts = facts_of({measured("locks.fcntl.shared_with_fork_child", false),
                                    measured("locks.flock.shared_with_fork_child", false),
                                    unmeasured("locks.ofd.supported", "no F_OFD_SETLK"),
                                    measured("segments.sysv.attach_count_after_creator_kill", 1)});
    const auto result = compare(profile_with({{"locks.fcntl.shared_with_fork_child", false},
                                              {"locks.flock.shared_with_fork_child", true},
                                              {"locks.ofd.supported", true},
                                              {"segments.sysv.attach_count_after_creator_kill", 1u},
                                              {"segments.hugetlbfs.attach_count_visible", false}}),
                                facts);
    ASSERT_EQ(result.size(), 5u);
    EXPECT_EQ(result[0].outcome, Outcome::match);
    EXPECT_EQ(result[1].outcome, Outcome::deviation);
    EXPECT_EQ(result[1].observed, nlohmann::json(false));
    EXPECT_EQ(result[2].outcome, Outcome::unmeasured);
    EXPECT_EQ(result[2].reason, "no F_OFD_SETLK");
    EXPECT_TRUE(result[2].observed.is_null());
    EXPECT_EQ(result[3].outcome, Outcome::match);  // 1u and 1 are the same JSON number
    EXPECT_EQ(result[4].outcome, Outcome::absent);
    EXPECT_EQ(result[4].fact_id, "segments.hugetlbfs.attach_count_visible");
    EXPECT_TRUE(result[4].observed.is_null());
}

TEST(Compare, KnownDeviationsFlip) {
    const FactSet facts = facts_of({measured("locks.fcntl.conflicts_with.flock", true),
                                    measured("locks.flock.conflicts_with.fcntl", false)});
    const auto result = compare(
        profile_with({{"locks.fcntl.conflicts_with.flock", false}, {"locks.flock.conflicts_with.fcntl", false}},
                     "NFS emulates flock with fcntl"),
        facts);
    ASSERT_EQ(result.size(), 2u);
    EXPECT_EQ(result[0].outcome, Outcome::known_deviation);
    EXPECT_EQ(result[1].outcome, Outcome::unexpectedly_conforms);
}

TEST(Compare, WildcardExpandsToEveryMatchingFact) {
    const FactSet facts = facts_of({measured("locks.fcntl.excludes_other_process", true),
                                    measured("locks.flock.excludes_other_process", false),
                                    measured("locks.fcntl.conflicts_with.flock", true),
                                    measured("process.kill0_foreign_uid_errno", "EPERM")});
    const auto result = compare(profile_with({{"locks.*.excludes_other_process", true}}), facts);
    ASSERT_EQ(result.size(), 2u);
    EXPECT_EQ(result[0].fact_id, "locks.fcntl.excludes_other_process");
    EXPECT_EQ(result[0].outcome, Outcome::match);
    EXPECT_EQ(result[1].fact_id, "locks.flock.excludes_other_process");
    EXPECT_EQ(result[1].outcome, Outcome::deviation);
    EXPECT_EQ(result[1].expectation.fact, "locks.*.excludes_other_process");
    // '*' is one component: it never spans the two of conflicts_with.<primitive>.
    EXPECT_EQ(compare(profile_with({{"locks.*.conflicts_with", true}}), facts)[0].outcome, Outcome::absent);
}

// A claim with targets: compared only there, and there it replaces the
// claim for every target on the facts it matches (the other facts keep it).
TEST(Compare, AClaimForATargetReplacesTheGeneralOneThere) {
    const FactSet facts = facts_of({measured("locks.flock.conflicts_with.fcntl", true), measured("locks.flock.conflicts_with.ofd", false)});
    PlatformProfile p = profile_with({{"locks.flock.conflicts_with.*", false}, {"locks.flock.conflicts_with.fcntl", true}});
    p.expectations[1].targets = {"nfs3", "nfs4.2"};
    const auto local = compare(p, facts, "tmpfs");
    ASSERT_EQ(local.size(), 2u) << "the NFS claim is not compared on tmpfs";
    EXPECT_EQ(local[0].fact_id, "locks.flock.conflicts_with.fcntl");
    EXPECT_EQ(local[0].outcome, Outcome::deviation);
    EXPECT_EQ(local[1].outcome, Outcome::match);
    const auto nfs = compare(p, facts, "nfs4.2");
    ASSERT_EQ(nfs.size(), 2u);
    EXPECT_EQ(nfs[0].fact_id, "locks.flock.conflicts_with.ofd") << "the general claim keeps the fact the NFS claim leaves";
    EXPECT_EQ(nfs[0].outcome, Outcome::match);
    EXPECT_EQ(nfs[1].fact_id, "locks.flock.conflicts_with.fcntl");
    EXPECT_EQ(nfs[1].expectation.targets, (std::vector<std::string>{"nfs3", "nfs4.2"}));
    EXPECT_EQ(nfs[1].outcome, Outcome::match);
    EXPECT_TRUE(compare(p, facts).size() == 2u && compare(p, facts)[0].outcome == Outcome::deviation) << "no target: general claims only";
}

TEST(Compare, BoundsHoldUpToTheLimit) {
    const FactSet facts = facts_of({measured("locks.flock.handover_ms", 0.31), measured("locks.fcntl.handover_ms", 100),
                                    measured("locks.slow-release.handover_ms", 1503.2),
                                    unmeasured("locks.helper-holds.handover_ms", "the lock never came")});
    const auto result = compare(profile_with({{"locks.*.handover_ms", {{"at_most", 100}}}}), facts);
    ASSERT_EQ(result.size(), 4u);
    EXPECT_EQ(result[0].fact_id, "locks.fcntl.handover_ms");
    EXPECT_EQ(result[0].outcome, Outcome::match);  // the bound itself is within it
    EXPECT_EQ(result[1].fact_id, "locks.flock.handover_ms");
    EXPECT_EQ(result[1].outcome, Outcome::match);
    EXPECT_EQ(result[2].fact_id, "locks.helper-holds.handover_ms");
    EXPECT_EQ(result[2].outcome, Outcome::unmeasured);
    EXPECT_EQ(result[2].reason, "the lock never came");
    EXPECT_EQ(result[3].fact_id, "locks.slow-release.handover_ms");
    EXPECT_EQ(result[3].outcome, Outcome::deviation);
    EXPECT_EQ(result[3].observed, nlohmann::json(1503.2));
    // A known slow hand-over flips like any other claim.
    const auto known = compare(profile_with({{"locks.*.handover_ms", {{"at_most", 100}}}}, "NFS: lockd"), facts);
    EXPECT_EQ(known[1].outcome, Outcome::unexpectedly_conforms);
    EXPECT_EQ(known[3].outcome, Outcome::known_deviation);
    // Something that is not a number never keeps a bound.
    EXPECT_EQ(compare(profile_with({{"locks.flock.handover_ms", {{"at_most", 100}}}}),
                      facts_of({measured("locks.flock.handover_ms", "fast")}))[0].outcome,
              Outcome::deviation);
}

TEST(Compare, OutcomeNames) {
    EXPECT_EQ(to_string(Outcome::match), "match");
    EXPECT_EQ(to_string(Outcome::deviation), "deviation");
    EXPECT_EQ(to_string(Outcome::known_deviation), "known_deviation");
    EXPECT_EQ(to_string(Outcome::unexpectedly_conforms), "unexpectedly_conforms");
    EXPECT_EQ(to_string(Outcome::unmeasured), "unmeasured");
    EXPECT_EQ(to_string(Outcome::absent), "absent");
}

}  // namespace
}  // namespace ilk
