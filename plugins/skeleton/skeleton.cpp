// skeleton: an annotated template for porters, and a real lock primitive.
//
// Copy this folder, rename the plugin and the primitive, replace the
// syscalls, keep the rules. It builds out of tree against an installed ilk
// (see README.md) and `ilk --plugin-dir <dir> probe --primitive skeleton`
// measures real facts with it.
//
// Which lock, and why: an open-file-description lock, fcntl(F_OFD_SETLK),
// whole file, rather than flock(2). It uses every LockOps hook: a try and a
// blocking acquire, a release, and a query (F_OFD_GETLK) that asks without
// acquiring; flock has no query, so a template built on it would leave that
// hook unshown. And unlike a classic fcntl lock it belongs to the open file
// description, so closing some other fd on the file does not drop it: the
// probe shows what a sound interlock looks like. OFD locks are Linux >= 3.15
// only; the #else branch shows how a plugin that cannot work here still
// builds, loads and says why.
//
// Rules for every hook (the harness relies on each of them):
//  * Never throw, and let nothing else escape either: a hook is a C function
//    pointer called across a shared-library boundary. Report through OpResult.
//  * Keep no state between calls. The harness calls hooks in forked actor
//    processes and sandboxed children: acquire() may run in one process and
//    release() in another, both on an fd that process opened itself. Globals,
//    caches and "the fd I locked last time" are wrong by construction. All the
//    state there is lives in the kernel, attached to the fd you are given.
//  * Touch only what you created: never close, dup or reopen the harness's
//    fd, never delete or chmod its files, never signal other processes.
//  * Honour wait=0: a try must return at once. Blocking where asked not to
//    stalls the harness until its call to the actor times out, and the fact
//    being measured is lost.
//  * Return the right OpStatus, and a message naming the call and errno:
//      ok          the operation happened (message empty: use op_ok()).
//      busy        someone else holds a conflicting lock; op_errno() maps
//                  EAGAIN/EWOULDBLOCK/EACCES to busy for you.
//      unsupported this system or filesystem cannot do it; say why.
//      error       anything else (EBADF, ENOLCK, EINTR...); op_errno() again.
//      not_found   is for segments; a lock hook never returns it.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <string>

#include "ilk/lock_support.h"  // probe_lock_support(): the shared supported() test
#include "ilk/plugin.h"        // the whole API: descriptors, OpResult, ILK_PLUGIN

// Everything in an anonymous namespace: only the two ILK_PLUGIN aliases are
// exported (plugins build with -fvisibility=hidden), so two plugins may both
// define acquire() without clashing.
namespace {

#if defined(F_OFD_SETLK)

// A write lock over the whole file: start 0, length 0 = to the end and beyond,
// so a file that grows stays covered. F_OFD_* commands fail with EINVAL unless
// l_pid is 0, which the value-initialisation guarantees.
struct flock whole_file(short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    return fl;
}

// acquire: take an exclusive lock on the whole file behind fd.
//  wait=0  try once; conflict -> busy, immediately.
//  wait=1  block until granted (only if caps has kLockCanBlock). Do not retry
//          on EINTR: a signal is how a blocked wait is stopped (Ctrl-C on a
//          run), and a retry loop here would turn it into a hang.
// Taking the lock again on an fd that already holds it must succeed (ok), as
// every kernel lock does; do not count or refuse re-acquires.
ilk::OpResult acquire(int fd, std::int32_t wait) {
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return ilk::op_ok();
    return ilk::op_errno(wait ? "fcntl(F_OFD_SETLKW, F_WRLCK)" : "fcntl(F_OFD_SETLK, F_WRLCK)", errno);
}

// release: drop this fd's lock. ok also when it held none (unlocking an
// unlocked file is not an error for any kernel lock). Never close fd: the
// harness owns it and measures what closing does separately.
ilk::OpResult release(int fd) {
    struct flock fl = whole_file(F_UNLCK);
    if (fcntl(fd, F_OFD_SETLK, &fl) == 0) return ilk::op_ok();
    return ilk::op_errno("fcntl(F_OFD_SETLK, F_UNLCK)", errno);
}

// query: would acquire(fd, 0) conflict right now? ok = free, busy = held by
// another open file description. It must not take, convert or drop a lock:
// the harness checks that asking agrees with trying. Only with kLockCanQuery;
// a lock that cannot ask (flock) sets the hook to nullptr and drops the cap.
ilk::OpResult query(int fd) {
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return ilk::op_errno("fcntl(F_OFD_GETLK)", errno);
    if (fl.l_type == F_UNLCK) return ilk::op_ok();
    // An OFD holder has no single owning process, so l_pid reads -1; a classic
    // fcntl holder (the same kernel lock table) shows its pid.
    return ilk::op_fail(ilk::OpStatus::busy, 0, "fcntl(F_OFD_GETLK): a %s lock is held (l_pid %d)",
                        fl.l_type == F_WRLCK ? "write" : "read", static_cast<int>(fl.l_pid));
}

const ilk::LockOps kOps{acquire, release, query};

// supported: can this lock be used on ctx->target_dir, here, now? Called in a
// sandboxed child (killed after 10 s) before anything is measured; ok lets the
// probe go on, unsupported skips every fact of this primitive with your
// message as the reason, so make the message name the directory and the cause
// (ENOLCK: NFS without lockd; EINVAL: a filesystem without lock support).
// Decide by trying, never by reading the kernel version or filesystem type:
// probe_lock_support() takes and drops the lock on a file it creates in
// ctx->scratch_dir (on the target's filesystem) and removes it again, and
// turns a hard failure into unsupported.
ilk::OpResult supported(const ilk::ProbeContext* ctx) { return ilk::probe_lock_support(ctx, kOps, "skeleton"); }

// Caps promise hooks and behaviour; the loader rejects a cap whose hook is
// missing (kLockCanQuery without query) by name. kLockNeedsWrite: F_WRLCK
// needs an fd opened for writing (EBADF otherwise).
constexpr std::uint64_t kCaps = ilk::kLockCanQuery | ilk::kLockCanBlock | ilk::kLockNeedsWrite;

#else  // no OFD locks in this <fcntl.h>

// The second tier of "not here": the plugin still builds and loads, lists its
// primitive, and every probe of it says why instead of failing. acquire and
// release must still be non-null (the loader checks); they never run, because
// supported() says no first.
ilk::OpResult not_built(int) {
    return ilk::op_fail(ilk::OpStatus::unsupported, ENOSYS, "skeleton was built without F_OFD_SETLK");
}
ilk::OpResult acquire(int fd, std::int32_t) { return not_built(fd); }
const ilk::LockOps kOps{acquire, not_built, nullptr};
ilk::OpResult supported(const ilk::ProbeContext*) {
    return ilk::op_fail(ilk::OpStatus::unsupported, ENOSYS,
                        "this system's <fcntl.h> has no F_OFD_SETLK (Linux >= 3.15 only): port skeleton.cpp "
                        "to a lock this system has");
}
constexpr std::uint64_t kCaps = 0;

#endif

// The descriptor: plain data with static storage, read by the harness for as
// long as the library stays loaded. One entry per primitive this plugin adds.
const ilk::PrimitiveDescriptor kPrimitives[] = {{
    "skeleton",                 // name: unique across all loaded plugins; facts are locks.<name>.*
    ilk::PrimitiveKind::lock,   // lock: fill `lock`, leave `segment` null (and the reverse)
    "template: open-file-description lock, fcntl(F_OFD_SETLK/F_OFD_GETLK), whole file",
    kCaps,
    supported,                  // required
    // prepare: set up a host resource (a mount, a sysctl) before supported();
    // every resource journaled through ctx->journal first, so the harness can
    // undo it. A lock on an ordinary file needs none: nullptr.
    nullptr,
    &kOps,
    nullptr,                    // segment ops: only for PrimitiveKind::segment
}};

// A target kind: a filesystem the kit sets up for a run, as it does tmpfs or
// ext4 itself. `ilk run --target skeleton-ramfs` runs the whole matrix on it.
// ramfs is a real filesystem the kit does not make: no size limit, no swap,
// and Linux's own lock code. A porter's kind for CIFS, ZFS or an NFS export
// has the same shape: mount something under ctx->scratch_dir and say where.
//
// Rules for setup():
//  * Journal every host resource through ctx->journal *before* making it
//    ("mount <mount point>", "loop <image>", "sysctl-add <path> <delta>"),
//    and make nothing if journaling fails. The journal is the only tear-down:
//    the harness undoes what it records at the end of the run, and the next
//    run or `ilk clean` does after a crash. A mount point must lie inside
//    ctx->scratch_dir; the journal refuses to undo anything else.
//  * Work only inside ctx->scratch_dir, and name in out->dir a directory
//    there (the harness refuses any other).
//  * setup() runs in a child process with a timeout: keep no state, and
//    report through OpResult (unsupported with the fix when a tool, module or
//    privilege is missing).
ilk::OpResult ramfs_setup(const ilk::ProbeContext* ctx, ilk::TargetSetup* out) {
    const std::string dir = std::string(ctx->scratch_dir) + "/skeleton-ramfs";
    if (ctx->journal(ctx->journal_self, "mount", dir.c_str()) != 0)
        return ilk::op_fail(ilk::OpStatus::error, 0, "cannot journal the mount %s", dir.c_str());
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ilk::op_errno("mkdir", errno);
    if (mount("ilk-skeleton-ramfs", dir.c_str(), "ramfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
        const int err = errno;
        if (err == ENODEV)
            return ilk::op_fail(ilk::OpStatus::unsupported, err, "this kernel has no ramfs (mount -t ramfs: %s)", std::strerror(err));
        return ilk::op_errno("mount -t ramfs", err);
    }
    std::snprintf(out->dir, sizeof out->dir, "%s", dir.c_str());
    // Optional: what a report should show about it, as a JSON object.
    std::snprintf(out->info, sizeof out->info, "{\"requested\": {\"fstype\": \"ramfs\", \"options\": \"mode=0755\"}}");
    return ilk::op_ok();
}

// Tools the kind needs, each with the Debian package that brings it (none
// here: mount(2) is a syscall). A missing one makes the target UNSUPPORTED
// with "apt-get install <package>" before setup() is called.
const ilk::TargetKindDescriptor kTargetKinds[] = {{
    "skeleton-ramfs",  // name: how --target names it; no '/', not one of the kit's own kinds
    "template: ramfs mounted by the skeleton plugin",
    ilk::kTargetNeedsRoot,  // flags: kTargetNeedsRoot (mounts), kTargetSegmentsOnly (no data directory)
    0,
    nullptr,
    ramfs_setup,
}};

// api_version must be ilk::kPluginApiVersion: the loader refuses a version it
// does not speak and tells the user to rebuild against their installed SDK.
// The plugin name is what `ilk list plugins` shows; by convention the
// folder's name. Target kinds came with API version 2.
const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "skeleton", "1.0", 1, kPrimitives, 1, kTargetKinds};

}  // namespace

// Exactly once per plugin, at namespace scope: exports ilk_plugin_api_version
// and ilk_plugin. Nothing else in this file runs at load time, and nothing
// should: no static constructors that do work, no threads.
ILK_PLUGIN(kPlugin)
