// hugetlbfs: segments only. The probe measures the hugetlbfs segment
// primitive on it; there is no data directory, so no cells run.
#include "target.h"
#include "targets/kind.h"
#include "targets/mount_util.h"

namespace ilk {

namespace {

void setup(const std::filesystem::path& base, const Journal& j, PreparedTarget& t) {
    mount_fs(j, "ilk-hugetlbfs", base / "hugetlbfs", "hugetlbfs", "mode=1777", t);
    t.dir = base / "hugetlbfs";
}

}  // namespace

TargetKind target_kind_hugetlbfs() {
    return {.name = "hugetlbfs",
            .summary = "hugetlbfs mounted by the kit (segments only: no data directory)",
            .needs_root = true,
            .segments_only = true,
            .tools = {},
            .setup = setup,
            .teardown = "unmount",
            .plugin = {}};
}

}  // namespace ilk
