// hpux-lockf: lockf(3) (System V / HP-UX), from offset 0 to the end of the file.
// F_TEST is lockf's own query.
#include <unistd.h>

#include "ilk/lock_support.h"
#include "ilk/plugin.h"

namespace {

// lockf works from the current offset; the offset is shared with dup'd and
// inherited fds, so seek every time rather than trusting it.
int lockf_whole(int fd, int cmd) {
    if (lseek(fd, 0, SEEK_SET) < 0) return -1;
    return lockf(fd, cmd, 0);
}

ilk::OpResult acquire(int fd, std::int32_t wait) {
    if (lockf_whole(fd, wait ? F_LOCK : F_TLOCK) == 0) return ilk::op_ok();
    return ilk::op_errno(wait ? "lockf(F_LOCK)" : "lockf(F_TLOCK)", errno);
}

ilk::OpResult release(int fd) {
    if (lockf_whole(fd, F_ULOCK) == 0) return ilk::op_ok();
    return ilk::op_errno("lockf(F_ULOCK)", errno);
}

ilk::OpResult query(int fd) {
    if (lockf_whole(fd, F_TEST) == 0) return ilk::op_ok();
    return ilk::op_errno("lockf(F_TEST)", errno);
}

const ilk::LockOps kOps{acquire, release, query};

ilk::OpResult supported(const ilk::ProbeContext* ctx) { return ilk::probe_lock_support(ctx, kOps, "lockf"); }

const ilk::PrimitiveDescriptor kPrimitives[] = {{
    "lockf", ilk::PrimitiveKind::lock, "System V lockf(F_TLOCK/F_TEST), offset 0 to end of file",
    ilk::kLockCanQuery | ilk::kLockCanBlock | ilk::kLockNeedsWrite, supported, nullptr, &kOps,
    nullptr}};

const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "hpux-lockf", "1.0", 1, kPrimitives};

}  // namespace

ILK_PLUGIN(kPlugin)
