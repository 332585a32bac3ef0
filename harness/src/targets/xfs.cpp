// xfs on a sparse loop image the kit makes and formats.
#include "targets/kind.h"
#include "targets/mount_util.h"

namespace ilk {

TargetKind target_kind_xfs() { return loop_image_kind("xfs", {"mkfs.xfs", "-q", "-f"}, "xfsprogs"); }

}  // namespace ilk
