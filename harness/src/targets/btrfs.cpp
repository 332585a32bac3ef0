// btrfs on a sparse loop image the kit makes and formats.
#include "targets/kind.h"
#include "targets/mount_util.h"

namespace ilk {

TargetKind target_kind_btrfs() { return loop_image_kind("btrfs", {"mkfs.btrfs", "-q", "-f"}, "btrfs-progs"); }

}  // namespace ilk
