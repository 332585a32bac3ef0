// ext4 on a sparse loop image the kit makes and formats.
#include "targets/kind.h"
#include "targets/mount_util.h"

namespace ilk {

TargetKind target_kind_ext4() { return loop_image_kind("ext4", {"mkfs.ext4", "-q", "-F"}, "e2fsprogs"); }

}  // namespace ilk
