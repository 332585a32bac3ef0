// tmpfs, mounted by the kit.
#include "target.h"
#include "targets/kind.h"
#include "targets/mount_util.h"

namespace ilk {

namespace {

void setup(const std::filesystem::path& base, const Journal& j, PreparedTarget& t) {
    mount_fs(j, "ilk-tmpfs", base / "tmpfs", "tmpfs", "mode=0755,size=256m", t);
    t.dir = base / "tmpfs";
}

}  // namespace

TargetKind target_kind_tmpfs() {
    return {.name = "tmpfs",
            .summary = "tmpfs mounted by the kit",
            .needs_root = true,
            .segments_only = false,
            .tools = {},
            .setup = setup,
            .teardown = "unmount",
            .plugin = {}};
}

}  // namespace ilk
