// posix-fcntl: classic POSIX record locks (F_SETLK), owned by (process, inode).
#include <fcntl.h>

#include "ilk/lock_support.h"
#include "ilk/plugin.h"

namespace {

struct flock whole_file(short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;  // to EOF and beyond: the whole file
    return fl;
}

ilk::OpResult acquire(int fd, std::int32_t wait) {
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) == 0) return ilk::op_ok();
    return ilk::op_errno(wait ? "fcntl(F_SETLKW)" : "fcntl(F_SETLK)", errno);
}

ilk::OpResult release(int fd) {
    struct flock fl = whole_file(F_UNLCK);
    if (fcntl(fd, F_SETLK, &fl) == 0) return ilk::op_ok();
    return ilk::op_errno("fcntl(F_SETLK, F_UNLCK)", errno);
}

ilk::OpResult query(int fd) {
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, F_GETLK, &fl) != 0) return ilk::op_errno("fcntl(F_GETLK)", errno);
    if (fl.l_type == F_UNLCK) return ilk::op_ok();
    return ilk::op_fail(ilk::OpStatus::busy, 0, "F_GETLK: held by pid %d", static_cast<int>(fl.l_pid));
}

const ilk::LockOps kOps{acquire, release, query};

ilk::OpResult supported(const ilk::ProbeContext* ctx) { return ilk::probe_lock_support(ctx, kOps, "fcntl"); }

const ilk::PrimitiveDescriptor kPrimitives[] = {{
    "fcntl", ilk::PrimitiveKind::lock, "POSIX record lock, fcntl(F_SETLK/F_GETLK), whole file",
    ilk::kLockCanQuery | ilk::kLockCanBlock | ilk::kLockNeedsWrite, supported, nullptr, &kOps,
    nullptr}};

const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "posix-fcntl", "1.0", 1, kPrimitives};

}  // namespace

ILK_PLUGIN(kPlugin)
