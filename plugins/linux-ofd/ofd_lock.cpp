// linux-ofd: open-file-description locks (F_OFD_SETLK, Linux >= 3.15), owned by
// the open file description like flock, but byte-range and fcntl-compatible.
#include <fcntl.h>

#include "ilk/lock_support.h"
#include "ilk/plugin.h"

namespace {

#if defined(F_OFD_SETLK)
struct flock whole_file(short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_pid = 0;  // required by F_OFD_* commands
    return fl;
}

ilk::OpResult acquire(int fd, std::int32_t wait) {
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return ilk::op_ok();
    return ilk::op_errno(wait ? "fcntl(F_OFD_SETLKW)" : "fcntl(F_OFD_SETLK)", errno);
}

ilk::OpResult release(int fd) {
    struct flock fl = whole_file(F_UNLCK);
    if (fcntl(fd, F_OFD_SETLK, &fl) == 0) return ilk::op_ok();
    return ilk::op_errno("fcntl(F_OFD_SETLK, F_UNLCK)", errno);
}

ilk::OpResult query(int fd) {
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return ilk::op_errno("fcntl(F_OFD_GETLK)", errno);
    if (fl.l_type == F_UNLCK) return ilk::op_ok();
    return ilk::op_fail(ilk::OpStatus::busy, 0, "F_OFD_GETLK: held (l_pid %d)", static_cast<int>(fl.l_pid));
}

const ilk::LockOps kOps{acquire, release, query};

ilk::OpResult supported(const ilk::ProbeContext* ctx) { return ilk::probe_lock_support(ctx, kOps, "ofd"); }
constexpr std::uint64_t kCaps = ilk::kLockCanQuery | ilk::kLockCanBlock | ilk::kLockNeedsWrite;
#else
// Built on a system without OFD locks: the primitive exists but says why not.
ilk::OpResult none(int) { return ilk::op_fail(ilk::OpStatus::unsupported, ENOSYS, "built without F_OFD_SETLK"); }
ilk::OpResult acquire(int fd, std::int32_t) { return none(fd); }
const ilk::LockOps kOps{acquire, none, nullptr};
ilk::OpResult supported(const ilk::ProbeContext*) {
    return ilk::op_fail(ilk::OpStatus::unsupported, ENOSYS, "this system's <fcntl.h> has no F_OFD_SETLK");
}
constexpr std::uint64_t kCaps = 0;
#endif

const ilk::PrimitiveDescriptor kPrimitives[] = {{
    "ofd", ilk::PrimitiveKind::lock, "open-file-description lock, fcntl(F_OFD_SETLK/F_OFD_GETLK)", kCaps,
    supported, nullptr, &kOps, nullptr}};

const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "linux-ofd", "1.0", 1, kPrimitives};

}  // namespace

ILK_PLUGIN(kPlugin)
