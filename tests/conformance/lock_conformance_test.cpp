// Lock conformance suite: what a startup interlock needs from a lock, checked
// with real processes for every lock primitive that loads (from ILK_PLUGIN_PATH,
// so the same suite runs against the shipped plugins and against broken fakes,
// which it must fail). Unsupported primitives skip with the reason.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "probe.h"
#include "sandbox.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

ilk::Registry& registry() {
    static ilk::Registry* r = [] {
        auto* reg = new ilk::Registry;  // never unloaded: primitives point into the libraries
        reg->load_dirs(ilk::Registry::default_dirs());
        for (const auto& f : reg->failures()) fprintf(stderr, "plugin not loaded: %s: %s\n", f.library.c_str(), f.cause.c_str());
        return reg;
    }();
    return *r;
}

std::vector<std::string> lock_names() {
    std::vector<std::string> names;
    for (const ilk::Primitive* p : registry().of_kind(ilk::PrimitiveKind::lock)) names.emplace_back(p->desc->name);
    return names;
}

class LockConformance : public ::testing::TestWithParam<std::string> {
protected:
    static void SetUpTestSuite() {
        char tmpl[] = "/tmp/ilk-conformance-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = new fs::path(tmpl);
        setenv("ILK_STATE_DIR", (*dir_ / "state").c_str(), 1);
        journal_ = new ilk::Journal(ilk::Journal::begin(*dir_));
        lab_ = new ilk::Lab(registry(), *journal_, *dir_);
    }
    static void TearDownTestSuite() {
        delete lab_;
        journal_->finish(registry());
        delete journal_;
        fs::remove_all(*dir_);
        delete dir_;
    }

    void SetUp() override {
        prim_ = registry().find(GetParam());
        ASSERT_NE(prim_, nullptr);
        const ilk::ProbeContext ctx = lab_->context();
        const auto r = ilk::run_sandboxed(
            [&] {
                const ilk::OpResult res = prim_->desc->supported(&ctx);
                return res.status == ilk::OpStatus::ok ? std::string() : std::string(res.message);
            },
            5s);
        if (!r.completed) GTEST_SKIP() << GetParam() << ": supported() " << r.failure();
        if (!r.payload.empty()) GTEST_SKIP() << GetParam() << " is not supported here: " << r.payload;
        path_ = lab_->fresh_file("conformance");
    }

    // An actor holding the lock on path_.
    ilk::Actor holder(int& fd) {
        ilk::Actor a = lab_->spawn();
        fd = a.open(path_, O_RDWR | O_CREAT);
        EXPECT_GE(fd, 0);
        const ilk::OpResult r = a.lock(GetParam(), fd);
        EXPECT_EQ(r.status, ilk::OpStatus::ok) << r.message;
        return a;
    }

    ilk::OpStatus try_from_other() {
        ilk::Actor b = lab_->spawn();
        const int fd = b.open(path_, O_RDWR | O_CREAT);
        return b.lock(GetParam(), fd).status;
    }

    static fs::path* dir_;
    static ilk::Journal* journal_;
    static ilk::Lab* lab_;
    const ilk::Primitive* prim_ = nullptr;
    std::string path_;
};

fs::path* LockConformance::dir_ = nullptr;
ilk::Journal* LockConformance::journal_ = nullptr;
ilk::Lab* LockConformance::lab_ = nullptr;

TEST_P(LockConformance, ExcludesAnotherProcess) {
    int fd;
    ilk::Actor a = holder(fd);
    EXPECT_EQ(try_from_other(), ilk::OpStatus::busy) << "a second process got the lock while the first held it";
}

TEST_P(LockConformance, ReleaseLetsAnotherIn) {
    int fd;
    ilk::Actor a = holder(fd);
    ASSERT_EQ(a.unlock(GetParam(), fd).status, ilk::OpStatus::ok);
    EXPECT_EQ(try_from_other(), ilk::OpStatus::ok);
}

TEST_P(LockConformance, ReleasedWhenHolderIsKilled) {
    int fd;
    ilk::Actor a = holder(fd);
    a.kill_now(SIGKILL);
    const auto t0 = std::chrono::steady_clock::now();
    ilk::OpStatus s;
    do s = try_from_other();
    while (s == ilk::OpStatus::busy && std::chrono::steady_clock::now() - t0 < 2s);
    EXPECT_EQ(s, ilk::OpStatus::ok) << "the lock outlived its SIGKILLed holder by 2 s";
}

// A server forks backends right after taking the lock; that must not lose it.
TEST_P(LockConformance, HolderKeepsLockAcrossFork) {
    int fd;
    ilk::Actor a = holder(fd);
    ilk::Actor child = a.fork_child(*journal_);
    EXPECT_EQ(try_from_other(), ilk::OpStatus::busy) << "the holder lost its lock when it forked";
}

TEST_P(LockConformance, QueryAgreesWithAcquire) {
    if (!(prim_->desc->caps & ilk::kLockCanQuery)) GTEST_SKIP() << GetParam() << " offers no query operation";
    int fd;
    ilk::Actor a = holder(fd);
    ilk::Actor b = lab_->spawn();
    const int bfd = b.open(path_, O_RDWR);
    const ilk::OpStatus asked = b.query(GetParam(), bfd).status;
    const ilk::OpStatus tried = b.lock(GetParam(), bfd).status;
    EXPECT_EQ(asked, tried) << "query and acquire disagree";
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    for (char& c : name)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(Locks, LockConformance, ::testing::ValuesIn(lock_names()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(LockConformance);

}  // namespace
