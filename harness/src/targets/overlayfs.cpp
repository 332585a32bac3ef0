// overlayfs as a container sees its root: upper and work directories on a
// tmpfs of their own, and a lower layer (an image layer) that already holds a
// data directory with a lockfile, made before the "container" started.
#include <fstream>

#include <fmt/format.h>

#include "target.h"
#include "targets/kind.h"
#include "targets/mount_util.h"

namespace ilk {

namespace {

// Opening a lower-layer file for writing copies it up.
void setup(const std::filesystem::path& base, const Journal& j, PreparedTarget& t) {
    namespace fs = std::filesystem;
    const fs::path layers = base / "overlayfs-layers";
    mount_fs(j, "ilk-overlay-layers", layers, "tmpfs", "mode=0755,size=64m", t);
    for (const char* d : {"lower", "upper", "work", "lower/preexisting"}) fs::create_directories(layers / d);
    const fs::path lockfile = layers / "lower/preexisting/postmaster.pid";
    std::ofstream(lockfile) << "1\n/var/lib/postgresql/data\n0\n5432\n/tmp\n*\n0 0\n";
    // Spare lower-layer files for the probe: each fact needs one not yet copied up.
    fs::create_directories(layers / "lower/copyup");
    for (int i = 1; i <= 32; ++i) std::ofstream(layers / fmt::format("lower/copyup/copyup-{}", i)) << "lockfile from the image\n";
    const std::string options = fmt::format("lowerdir={},upperdir={},workdir={}", (layers / "lower").string(),
                                            (layers / "upper").string(), (layers / "work").string());
    mount_fs(j, "ilk-overlay", base / "overlayfs", "overlay", options, t);
    t.info["lower_lockfile"] = (base / "overlayfs/preexisting/postmaster.pid").string();
    t.lower_dir = base / "overlayfs/copyup";
    t.dir = base / "overlayfs";
}

}  // namespace

TargetKind target_kind_overlayfs() {
    return {.name = "overlayfs",
            .summary = "overlayfs, upper on tmpfs, a lower layer holding a pre-existing lockfile",
            .needs_root = true,
            .segments_only = false,
            .tools = {},
            .setup = setup,
            .teardown = "unmount the overlay, then the tmpfs holding its layers",
            .plugin = {}};
}

}  // namespace ilk
