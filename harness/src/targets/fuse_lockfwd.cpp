// FUSE with lock forwarding: bindfs takes each lock on the source directory
// itself. bindfs forwards locks only when multithreaded (its man page names
// the caveats).
#include "target.h"
#include "targets/fuse_bindfs.h"
#include "targets/kind.h"

namespace ilk {

TargetKind target_kind_fuse_lockfwd() {
    return {.name = "fuse-lockfwd",
            .summary = "FUSE: bindfs --enable-lock-forwarding (locks forwarded to the source directory)",
            .needs_root = true,
            .segments_only = false,
            .tools = {{"bindfs", "bindfs"}},
            .setup =
                [](const std::filesystem::path& base, const Journal& j, PreparedTarget& t) {
                    setup_bindfs("fuse-lockfwd", {"--enable-lock-forwarding", "--multithreaded"}, base, j, t);
                },
            .teardown = "unmount (the bindfs process exits with its mount)",
            .plugin = {}};
}

}  // namespace ilk
