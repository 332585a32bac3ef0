// The kit's own target kinds: one line each, in the order `ilk run` with no
// --target covers them. A kind lives in its own file, ending in its descriptor.
#include "targets/kind.h"

#define ILK_TARGET_KINDS(X) \
    X(tmpfs)                \
    X(ext4)                 \
    X(xfs)                  \
    X(btrfs)                \
    X(overlayfs)            \
    X(fuse)                 \
    X(fuse_lockfwd)         \
    X(hugetlbfs)

namespace ilk {

#define ILK_DECLARE(kind) TargetKind target_kind_##kind();
ILK_TARGET_KINDS(ILK_DECLARE)
#undef ILK_DECLARE

const std::vector<TargetKind>& builtin_target_kinds() {
#define ILK_ENTRY(kind) target_kind_##kind(),
    static const std::vector<TargetKind> kinds{ILK_TARGET_KINDS(ILK_ENTRY)};
#undef ILK_ENTRY
    return kinds;
}

}  // namespace ilk
