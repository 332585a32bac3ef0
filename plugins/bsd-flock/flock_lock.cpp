// bsd-flock: flock(2) whole-file locks, owned by the open file description.
// There is no way to ask about an flock without trying it, so no query.
#include <sys/file.h>

#include "ilk/lock_support.h"
#include "ilk/plugin.h"

namespace {

ilk::OpResult acquire(int fd, std::int32_t wait) {
    if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) return ilk::op_ok();
    return ilk::op_errno(wait ? "flock(LOCK_EX)" : "flock(LOCK_EX|LOCK_NB)", errno);
}

ilk::OpResult release(int fd) {
    if (flock(fd, LOCK_UN) == 0) return ilk::op_ok();
    return ilk::op_errno("flock(LOCK_UN)", errno);
}

const ilk::LockOps kOps{acquire, release, nullptr};

ilk::OpResult supported(const ilk::ProbeContext* ctx) { return ilk::probe_lock_support(ctx, kOps, "flock"); }

const ilk::PrimitiveDescriptor kPrimitives[] = {{
    "flock", ilk::PrimitiveKind::lock, "BSD whole-file lock, flock(LOCK_EX|LOCK_NB)", ilk::kLockCanBlock,
    supported, nullptr, &kOps, nullptr}};

const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "bsd-flock", "1.0", 1, kPrimitives};

}  // namespace

ILK_PLUGIN(kPlugin)
