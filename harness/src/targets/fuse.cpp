// FUSE: bindfs over a directory; locks are kept by the kernel's FUSE layer
// (bindfs does not see them).
#include "target.h"
#include "targets/fuse_bindfs.h"
#include "targets/kind.h"

namespace ilk {

TargetKind target_kind_fuse() {
    return {.name = "fuse",
            .summary = "FUSE: bindfs over a directory, locks kept by the kernel's FUSE layer",
            .needs_root = true,
            .segments_only = false,
            .tools = {{"bindfs", "bindfs"}},
            .setup = [](const std::filesystem::path& base, const Journal& j, PreparedTarget& t) { setup_bindfs("fuse", {}, base, j, t); },
            .teardown = "unmount (the bindfs process exits with its mount)",
            .plugin = {}};
}

}  // namespace ilk
