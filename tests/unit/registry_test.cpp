// The registry loads good plugins and reports each bad one by path and cause,
// then goes on with the rest.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "registry.h"

namespace fs = std::filesystem;
using ilk::Registry;

namespace {

const fs::path kPlugins = ILK_TEST_PLUGIN_DIR;
const fs::path kFakes = ILK_TEST_FAKE_DIR;

std::string only_failure(const Registry& r) {
    EXPECT_EQ(r.failures().size(), 1u);
    return r.failures().empty() ? std::string() : r.failures().front().cause;
}

TEST(Registry, LoadsAllShippedPlugins) {
    Registry r;
    r.load_dirs({kPlugins});
    EXPECT_TRUE(r.failures().empty()) << r.failures().front().library << ": " << r.failures().front().cause;
    EXPECT_EQ(r.plugins().size(), 7u);
    for (const char* name : {"fcntl", "ofd", "flock", "lockf", "sysv", "sysv-huge", "hugetlbfs"})
        EXPECT_NE(r.find(name), nullptr) << name;
    EXPECT_EQ(r.of_kind(ilk::PrimitiveKind::lock).size(), 4u);
    EXPECT_EQ(r.of_kind(ilk::PrimitiveKind::segment).size(), 3u);
    // nfs-mounts: network mounts only (API version 3).
    for (const char* name : {"nfs3", "nfs4.0", "nfs4.1", "nfs4.2", "nfs3-nolock", "nfs3-local_lock=flock", "nfs3-local_lock=posix",
                             "nfs4.2-local_lock=all", "ganesha4.2", "9p"})
        EXPECT_NE(r.find_network_mount(name), nullptr) << name;
    EXPECT_EQ(r.network_mounts().size(), 10u);
}

TEST(Registry, WrongApiVersionIsRejectedByName) {
    Registry r;
    r.load_dirs({kFakes / "wrong-api"});
    const std::string cause = only_failure(r);
    EXPECT_NE(cause.find("plugin API version 999"), std::string::npos) << cause;
    EXPECT_NE(cause.find("rebuild the plugin"), std::string::npos) << cause;
    EXPECT_TRUE(r.primitives().empty());
}

TEST(Registry, MissingFactoryIsRejectedByName) {
    Registry r;
    r.load_dirs({kFakes / "missing-factory"});
    const std::string cause = only_failure(r);
    EXPECT_NE(cause.find("no 'ilk_plugin' factory"), std::string::npos) << cause;
}

TEST(Registry, NotASharedObjectIsRejected) {
    Registry r;
    r.load_dirs({kFakes / "not-elf"});
    const std::string cause = only_failure(r);
    EXPECT_NE(cause.find("cannot load"), std::string::npos) << cause;
    EXPECT_EQ(r.failures().front().library.filename(), "ilk-not-elf.so");
}

TEST(Registry, CrashAtLoadIsContained) {
    Registry r;
    r.load_dirs({kFakes / "load-crash"});
    const std::string cause = only_failure(r);
    EXPECT_NE(cause.find("crashed while loading (killed by SIGSEGV)"), std::string::npos) << cause;
}

TEST(Registry, MissingDirectoryIsReported) {
    Registry r;
    r.load_dirs({"/nonexistent/ilk/plugins"});
    const std::string cause = only_failure(r);
    EXPECT_NE(cause.find("does not exist"), std::string::npos) << cause;
    EXPECT_NE(cause.find("--plugin-dir"), std::string::npos) << cause;
}

TEST(Registry, BadPluginsDoNotStopGoodOnes) {
    Registry r;
    r.load_dirs({kFakes / "wrong-api", kPlugins, kFakes / "load-crash", kFakes / "not-elf"});
    EXPECT_EQ(r.failures().size(), 3u);
    EXPECT_EQ(r.plugins().size(), 7u);
    EXPECT_NE(r.find("fcntl"), nullptr);
}

TEST(Registry, DuplicatePrimitiveIsRejected) {
    char tmpl[] = "/tmp/ilk-registry-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    const fs::path copy = fs::path(tmpl) / "ilk-copy-of-fcntl.so";
    fs::copy_file(kPlugins / "ilk-posix-fcntl.so", copy);
    Registry r;
    r.load_file(kPlugins / "ilk-posix-fcntl.so");
    r.load_file(copy);
    const std::string cause = only_failure(r);
    EXPECT_NE(cause.find("primitive 'fcntl' is already provided"), std::string::npos) << cause;
    fs::remove_all(tmpl);
}

TEST(Registry, EnvironmentOverridesDefaultDirs) {
    setenv("ILK_PLUGIN_PATH", "/a:/b", 1);
    const auto dirs = Registry::default_dirs();
    unsetenv("ILK_PLUGIN_PATH");
    ASSERT_EQ(dirs.size(), 2u);
    EXPECT_EQ(dirs[0], "/a");
    EXPECT_EQ(dirs[1], "/b");
}

// validate_descriptor: one case per message.
ilk::OpResult ok_hook(const ilk::ProbeContext*) { return ilk::op_ok(); }
ilk::OpResult acquire(int, std::int32_t) { return ilk::op_ok(); }
ilk::OpResult release(int) { return ilk::op_ok(); }

TEST(Descriptor, NullIsRejected) { EXPECT_EQ(ilk::validate_descriptor(nullptr), "the factory returned no descriptor"); }

TEST(Descriptor, ZeroPrimitivesIsRejected) {
    const ilk::PluginDescriptor d{ilk::kPluginApiVersion, "p", "1", 0, nullptr};
    EXPECT_NE(ilk::validate_descriptor(&d).find("declares 0 primitives"), std::string::npos);
}

TEST(Descriptor, LockWithoutAcquireIsRejected) {
    const ilk::LockOps ops{nullptr, release, nullptr};
    const ilk::PrimitiveDescriptor p{"x", ilk::PrimitiveKind::lock, "", 0, ok_hook, nullptr, &ops, nullptr};
    const ilk::PluginDescriptor d{ilk::kPluginApiVersion, "p", "1", 1, &p};
    EXPECT_NE(ilk::validate_descriptor(&d).find("lacks acquire/release"), std::string::npos);
}

TEST(Descriptor, ClaimedQueryWithoutHookIsRejected) {
    const ilk::LockOps ops{acquire, release, nullptr};
    const ilk::PrimitiveDescriptor p{"x", ilk::PrimitiveKind::lock, "", ilk::kLockCanQuery, ok_hook, nullptr, &ops, nullptr};
    const ilk::PluginDescriptor d{ilk::kPluginApiVersion, "p", "1", 1, &p};
    EXPECT_NE(ilk::validate_descriptor(&d).find("claims kLockCanQuery"), std::string::npos);
}

TEST(Descriptor, SegmentWithoutHooksIsRejected) {
    const ilk::SegmentOps ops{};
    const ilk::PrimitiveDescriptor p{"x", ilk::PrimitiveKind::segment, "", 0, ok_hook, nullptr, nullptr, &ops};
    const ilk::PluginDescriptor d{ilk::kPluginApiVersion, "p", "1", 1, &p};
    EXPECT_NE(ilk::validate_descriptor(&d).find("lacks one of create"), std::string::npos);
}

TEST(Descriptor, MissingSupportedHookIsRejected) {
    const ilk::LockOps ops{acquire, release, nullptr};
    const ilk::PrimitiveDescriptor p{"x", ilk::PrimitiveKind::lock, "", 0, nullptr, nullptr, &ops, nullptr};
    const ilk::PluginDescriptor d{ilk::kPluginApiVersion, "p", "1", 1, &p};
    EXPECT_NE(ilk::validate_descriptor(&d).find("no supported() hook"), std::string::npos);
}

// Target kinds (API version 2): one case per message, and what is allowed.
ilk::OpResult kind_setup(const ilk::ProbeContext*, ilk::TargetSetup*) { return ilk::op_ok(); }

std::string validate_kind(const ilk::TargetKindDescriptor& k, std::uint32_t version = ilk::kPluginApiVersion) {
    const ilk::PluginDescriptor d{version, "p", "1", 0, nullptr, 1, &k};
    return ilk::validate_descriptor(&d);
}

TEST(Descriptor, PluginWithOnlyATargetKindIsAccepted) {
    EXPECT_EQ(validate_kind({"ramfs", "ramfs", 0, 0, nullptr, kind_setup}), "");
}

TEST(Descriptor, TargetKindsOfAVersionOnePluginAreNotRead) {
    // A version-1 descriptor has no such fields: what stands there is not read,
    // so a plugin with only target kinds still declares 0 primitives.
    EXPECT_NE(validate_kind({"ramfs", "ramfs", 0, 0, nullptr, kind_setup}, 1).find("declares 0 primitives"), std::string::npos);
}

// Network mounts (API version 3): their names become paths in the guests and
// their options go onto exports(5) lines and mount.nfs's command line.
std::string validate_mount(const ilk::NetworkMountDescriptor& m, std::uint32_t version = ilk::kPluginApiVersion) {
    const ilk::PluginDescriptor d{version, "p", "1", 0, nullptr, 0, nullptr, 1, &m};
    return ilk::validate_descriptor(&d);
}

TEST(Descriptor, NetworkMountsAreCheckedAsTheyBecomePathsAndCommandLines) {
    const ilk::NetworkMountDescriptor good{"nfs3-local_lock=flock", "s", "kernel-nfsd", "rw,sync", "vers=3,local_lock=flock", "nfs(5)"};
    EXPECT_EQ(validate_mount(good), "");
    EXPECT_NE(validate_mount(good, 2).find("declares 0 primitives"), std::string::npos) << "not read from a version-2 descriptor";
    auto with = [&](auto change) {
        ilk::NetworkMountDescriptor m = good;
        change(m);
        return validate_mount(m);
    };
    EXPECT_NE(with([](auto& m) { m.name = "../etc"; }).find("name it with letters"), std::string::npos);
    EXPECT_NE(with([](auto& m) { m.name = "-o"; }).find("name it with letters"), std::string::npos);
    EXPECT_NE(with([](auto& m) { m.name = ""; }).find("has no name"), std::string::npos);
    EXPECT_NE(with([](auto& m) { m.server = "ganesha"; }).find("not one this ilk can run (known: kernel-nfsd, nfs-ganesha, host-9p)"), std::string::npos);
    EXPECT_NE(with([](auto& m) { m.export_options = "rw) * (rw"; }).find("must be words, digits"), std::string::npos);
    EXPECT_NE(with([](auto& m) { m.mount_options = "vers=3 ; reboot"; }).find("must be words, digits"), std::string::npos);
    EXPECT_NE(with([](auto& m) { m.mount_options = nullptr; }).find("must be words, digits"), std::string::npos);
    EXPECT_NE(with([](auto& m) { m.source = ""; }).find("names no source"), std::string::npos);
}

TEST(Descriptor, TargetKindThatLooksLikeAPathIsRejected) {
    EXPECT_NE(validate_kind({"../etc", "", 0, 0, nullptr, kind_setup}).find("looks like a path"), std::string::npos);
    EXPECT_NE(validate_kind({"..", "", 0, 0, nullptr, kind_setup}).find("looks like a path"), std::string::npos);
    EXPECT_NE(validate_kind({"", "", 0, 0, nullptr, kind_setup}).find("has no name"), std::string::npos);
}

TEST(Descriptor, TargetKindWithoutSetupIsRejected) {
    EXPECT_NE(validate_kind({"k", "", 0, 0, nullptr, nullptr}).find("no setup() hook"), std::string::npos);
}

TEST(Descriptor, TargetKindWithUnknownFlagsIsRejected) {
    EXPECT_NE(validate_kind({"k", "", ilk::kTargetFlagsSentinel, 0, nullptr, kind_setup}).find("unknown flags"), std::string::npos);
}

TEST(Descriptor, TargetToolWithoutItsPackageIsRejected) {
    const ilk::TargetToolRef tools[] = {{"mkfs.k", "k-progs"}, {"mount.k", ""}};
    EXPECT_NE(validate_kind({"k", "", 0, 2, tools, kind_setup}).find("tool 1 lacks a binary or a Debian package"), std::string::npos);
    EXPECT_NE(validate_kind({"k", "", 0, 2, nullptr, kind_setup}).find("declares 2 tools"), std::string::npos);
}

}  // namespace
