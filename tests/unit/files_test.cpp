// The requests a trial makes on its data directory's files (host/files.h),
// as a host does them: what a guest's agent does for a data directory on an
// NFS export is the same code.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "host/files.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class Files : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/dev/shm/ilk-files-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }
    json ask(json r) { return ilk::do_file_request(r); }
    fs::path dir_;
};

TEST(FilesHex, BytesThatAreNotTextSurvive) {
    const std::string bytes("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n", 16);
    EXPECT_EQ(ilk::to_hex(std::string("\x00\xff", 2)), "00ff");
    EXPECT_EQ(ilk::from_hex(ilk::to_hex(bytes)), bytes);
    EXPECT_THROW(ilk::from_hex("abc"), std::runtime_error);
    EXPECT_THROW(ilk::from_hex("zz"), std::runtime_error);
}

TEST_F(Files, PathsMustBeAbsoluteWithoutDotDot) {
    for (const char* bad : {"relative/dir", "../x"}) EXPECT_THROW(ask({{"do", "fresh"}, {"path", bad}}), std::runtime_error) << bad;
    try {
        ask({{"do", "remove"}, {"path", (dir_ / "a/../../etc").string()}});
        FAIL() << "a '..' was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("'..'"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::exists(dir_));
    EXPECT_THROW(ask({{"do", "explode"}, {"path", dir_.string()}}), std::runtime_error);
}

TEST_F(Files, ATrialsDirectoryFromMakingToRemoving) {
    const fs::path d = dir_ / "trials" / "trial-0";
    std::ofstream(dir_ / "keep") << "not ours";
    ask({{"do", "fresh"}, {"path", d.string()}});
    std::ofstream(d / "left-over") << "x";
    ask({{"do", "fresh"}, {"path", d.string()}});
    EXPECT_TRUE(fs::is_directory(d));
    EXPECT_TRUE(fs::is_empty(d)) << "fresh empties what an earlier trial left";

    const std::string garbage("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n", 16);
    ask({{"do", "write"}, {"path", (d / "postmaster.pid").string()}, {"hex", ilk::to_hex(garbage)}, {"mode", 0640}});
    struct stat st {};
    ASSERT_EQ(stat((d / "postmaster.pid").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    json r = ask({{"do", "read"}, {"path", (d / "postmaster.pid").string()}});
    EXPECT_TRUE(r["found"].get<bool>());
    EXPECT_EQ(ilk::from_hex(r["hex"]), garbage);
    r = ask({{"do", "read"}, {"path", (d / "postmaster.pid").string()}, {"max", 4}});
    EXPECT_EQ(ilk::from_hex(r["hex"]), garbage.substr(0, 4));
    EXPECT_FALSE(ask({{"do", "read"}, {"path", (d / "absent").string()}})["found"].get<bool>());

    ask({{"do", "rename"}, {"path", (d / "postmaster.pid").string()}, {"to", (d / "moved").string()}});
    EXPECT_EQ(ask({{"do", "list"}, {"path", d.string()}})["names"], json::array({"moved"}));
    EXPECT_TRUE(ask({{"do", "exists"}, {"path", (d / "moved").string()}})["exists"].get<bool>());
    ask({{"do", "unlink"}, {"path", (d / "moved").string()}});
    ask({{"do", "unlink"}, {"path", (d / "moved").string()}});  // already gone: fine
    EXPECT_FALSE(ask({{"do", "exists"}, {"path", (d / "moved").string()}})["exists"].get<bool>());
    try {
        ask({{"do", "rename"}, {"path", (d / "absent").string()}, {"to", (d / "x").string()}});
        FAIL() << "renaming nothing succeeded";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find((d / "absent").string()), std::string::npos) << "names the path: " << e.what();
    }

    ask({{"do", "remove"}, {"path", (dir_ / "trials").string()}});
    EXPECT_FALSE(fs::exists(dir_ / "trials"));
    EXPECT_TRUE(fs::exists(dir_ / "keep"));
}

// A file is read and written as itself, never through a symlink planted in
// its place.
TEST_F(Files, ASymlinkIsNotFollowed) {
    std::ofstream(dir_ / "target") << "secret";
    fs::create_symlink(dir_ / "target", dir_ / "postmaster.pid");
    EXPECT_THROW(ask({{"do", "read"}, {"path", (dir_ / "postmaster.pid").string()}}), std::runtime_error);
    EXPECT_THROW(ask({{"do", "write"}, {"path", (dir_ / "postmaster.pid").string()}, {"hex", "00"}}), std::runtime_error);
    std::ifstream in(dir_ / "target");
    std::string s;
    in >> s;
    EXPECT_EQ(s, "secret");
}

TEST_F(Files, GivingToAUidNeedsSearchableParents) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: chown to another uid";
    const fs::path closed = dir_ / "closed", d = closed / "trial-0";
    fs::create_directories(d);
    chmod(dir_.c_str(), 0755);
    chmod(closed.c_str(), 0700);
    try {
        ask({{"do", "give"}, {"path", d.string()}, {"uid", 2147483601u}});
        FAIL() << "a directory behind a closed parent was given";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("chmod o+x"), std::string::npos) << "says the fix: " << e.what();
    }
    chmod(closed.c_str(), 0755);
    ask({{"do", "give"}, {"path", d.string()}, {"uid", 2147483601u}});
    struct stat st {};
    ASSERT_EQ(stat(d.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 2147483601u);
}

}  // namespace
