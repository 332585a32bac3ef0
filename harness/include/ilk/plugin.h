// Interlock Kit plugin API: the only contract between the harness and a plugin.
//
// A plugin is a MODULE library that exports two symbols by alias
// (BOOST_DLL_ALIAS, see ILK_PLUGIN below):
//   ilk_plugin_api_version  -> uint32_t()            checked before anything else
//   ilk_plugin              -> const PluginDescriptor*()
// Everything that crosses the boundary is plain data and C function pointers:
// no exceptions, std::function, std::string or type_info. Each entry point
// returns an OpResult value. Plugin code runs in the harness's forked actor
// processes, so a crash in a plugin costs one actor, never the run.
#pragma once

#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace ilk {

// Bump on any change to the layout or meaning of the structs below.
//   1  primitives (locks, segments)
//   2  PluginDescriptor gains target kinds (appended: a version-1 plugin's
//      descriptor is the prefix of a version-2 one, so ilk still loads it)
//   3  PluginDescriptor gains network mounts (appended, as above)
inline constexpr std::uint32_t kPluginApiVersion = 3;
// The oldest version this ilk still loads.
inline constexpr std::uint32_t kPluginApiOldest = 1;

enum class PrimitiveKind : std::uint32_t {
    lock = 1,     // an advisory lock on an open file
    segment = 2,  // a shared-memory segment that processes attach to
};

// What a lock primitive can do beyond try/lock/unlock.
enum LockCaps : std::uint64_t {
    kLockCanQuery = 1u << 0,     // query() asks "would this conflict?" without acquiring
    kLockCanBlock = 1u << 1,     // acquire(wait=true) blocks until granted
    kLockNeedsWrite = 1u << 2,   // the fd must be open for writing (fcntl F_WRLCK, lockf)
    kLockCapsSentinel = 1u << 3  // first unused bit
};

// What a segment primitive can do beyond create/attach/detach/remove.
enum SegmentCaps : std::uint64_t {
    kSegAttachCount = 1u << 0,  // attach_count() reports how many processes are attached
    kSegKeyed = 1u << 1,        // segments are found again by a numeric key (SysV)
    kSegFileBacked = 1u << 2,   // segments are files in a directory (hugetlbfs)
    kSegCapsSentinel = 1u << 3
};

enum class OpStatus : std::int32_t {
    ok = 0,           // done
    busy = 1,         // a conflicting holder exists (EAGAIN/EWOULDBLOCK/EACCES for locks)
    not_found = 2,    // no such segment / file
    unsupported = 3,  // not available here: message says why
    error = 4,        // failed: err and message say how
};

struct OpResult {
    OpStatus status;
    std::int32_t err;  // errno when relevant, else 0
    char message[240]; // human text: what failed and why; empty on ok
};

// Where a primitive is asked to work. All strings are NUL-terminated and
// owned by the harness for the duration of the call.
struct ProbeContext {
    const char* target_dir;   // directory the primitive works in (the data directory's parent)
    const char* scratch_dir;  // the run's private scratch directory; the plugin may create inside it
    std::int32_t is_root;     // effective uid == 0
    // Journal a host resource *before* creating it, so a crashed run is
    // cleaned up by the next, and undone by the harness when the run ends:
    //   kind "mount":  what = mount point (unmounted, then the directory removed)
    //   kind "sysctl-add": what = "<path> <delta>" (the value was raised by delta
    //                  under an flock on the file; the undo lowers it by as much,
    //                  never below 0, so overlapping runs end where they began)
    //   kind "sysctl": what = "<path> <old value> <new value>" (the older form,
    //                  still undone: old written back if the file still holds new)
    // Returns 0 on success; a plugin must not create the resource otherwise.
    std::int32_t (*journal)(void* self, const char* kind, const char* what);
    void* journal_self;
};

struct LockOps {
    // Acquire an exclusive whole-file lock on fd. wait=0: return busy at once on conflict.
    OpResult (*acquire)(int fd, std::int32_t wait);
    OpResult (*release)(int fd);
    // Would an exclusive lock on fd conflict? ok = free, busy = held elsewhere.
    // Only when kLockCanQuery; may be null otherwise.
    OpResult (*query)(int fd);
};

// A segment's identity, enough to attach again from another process.
struct SegmentRef {
    std::int64_t key;   // SysV key, or the number naming a file-backed segment
    std::int64_t id;    // SysV shmid; -1 for file-backed segments
    std::uint64_t size; // bytes mapped by attach()
    char path[256];     // file of a file-backed segment; empty for SysV
};

struct SegmentOps {
    // Create a new segment of at least size bytes under key (in dir for
    // file-backed kinds). busy = key already taken.
    OpResult (*create)(const ProbeContext* ctx, std::int64_t key, std::size_t size, SegmentRef* out);
    // Find an existing segment by key (id/path filled in on ok).
    OpResult (*lookup)(const ProbeContext* ctx, std::int64_t key, SegmentRef* out);
    // Map the segment into this process; *addr receives the address.
    OpResult (*attach)(const SegmentRef* ref, void** addr);
    OpResult (*detach)(const SegmentRef* ref, void* addr);
    // Number of attached processes in *count; only with kSegAttachCount.
    OpResult (*attach_count)(const SegmentRef* ref, std::int64_t* count);
    // Mark for removal (SysV IPC_RMID) or unlink the file.
    OpResult (*remove)(const SegmentRef* ref);
    // After a crashed run: remove segments under key that process creator_pid
    // created. Must not touch anything else. ok also when nothing was left.
    OpResult (*reclaim)(const ProbeContext* ctx, std::int64_t key, std::int64_t creator_pid);
};

struct PrimitiveDescriptor {
    const char* name;     // vocabulary name: "fcntl", "ofd", "flock", "lockf", "sysv", "sysv-huge", "hugetlbfs"
    PrimitiveKind kind;
    const char* summary;  // one line for `ilk list plugins`
    std::uint64_t caps;   // LockCaps or SegmentCaps
    // Is the primitive usable on ctx->target_dir here? unsupported carries the reason.
    OpResult (*supported)(const ProbeContext* ctx);
    // Set up what the primitive needs (a mount, a page reservation), each
    // resource journaled through ctx->journal, which undoes it after the run.
    // Called once per run before supported(); may be null.
    OpResult (*prepare)(const ProbeContext* ctx);
    const LockOps* lock;        // when kind == lock
    const SegmentOps* segment;  // when kind == segment
};

// A tool a target kind needs, and the Debian package that brings it.
struct TargetToolRef {
    const char* binary;   // "mkfs.ext4": looked up in PATH and the sbin directories
    const char* package;  // "e2fsprogs": named in the message when the tool is missing
};

enum TargetFlags : std::uint64_t {
    kTargetNeedsRoot = 1u << 0,      // set-up mounts or attaches: without root the target is UNSUPPORTED, with the reason
    kTargetSegmentsOnly = 1u << 1,   // holds segments, not a data directory (as hugetlbfs)
    kTargetFlagsSentinel = 1u << 2
};

// What a target kind's set-up made.
struct TargetSetup {
    char dir[512];    // where the local host works: a directory on the target, inside ctx->scratch_dir
    char info[1024];  // optional: a JSON object of what was set up ({"export": "..."}), merged into the
                      // target's info in reports; empty for none
};

// A target kind a plugin provides (API version 2): a filesystem or mount the
// kit sets up for a run, next to the kit's own (tmpfs, ext4, overlayfs, ...).
// `ilk run --target <name>` and `ilk list targets` know it by its name.
//
// There is no tear-down hook, on purpose: everything setup() makes — a mount,
// a loop device, a sysctl — is journaled through ctx->journal *before* it is
// made and undone by the journal at the end of the run, and by the next run or
// `ilk clean` after a crash of the kit. A tear-down hook would run only when
// nothing went wrong.
struct TargetKindDescriptor {
    const char* name;     // "ramfs", "cifs", "zfs": no '/', not one of the kit's own kinds
    const char* summary;  // one line for `ilk list targets`
    std::uint64_t flags;  // TargetFlags
    std::size_t tool_count;
    const TargetToolRef* tools;  // checked before setup(): a missing one makes the target UNSUPPORTED
    // Set up the target under ctx->scratch_dir (target_dir is the same
    // directory) and name in out->dir where to work. Runs in a sandboxed child
    // of the harness with a timeout: a crash or hang costs the target, not the
    // run. unsupported/error carry the reason and the fix.
    OpResult (*setup)(const ProbeContext* ctx, TargetSetup* out);
};

// A network filesystem as a target (API version 3): served by one QEMU guest,
// mounted by two client guests at the same path. The kit boots the guests
// (images of ci/guest/image.sh), exports `export_options` from the server and
// mounts with `mount_options` on each client, through the guests' agents; the
// plugin says what, the harness does it (a plugin never runs in a guest's
// place). `ilk probe --nfs NAME` and `ilk list targets` know it by its name.
struct NetworkMountDescriptor {
    const char* name;            // "nfs4.2", "nfs3-nolock": letters, digits, '.', '_', '-' and '='
    const char* summary;         // one line for `ilk list targets`
    const char* server;          // "kernel-nfsd": the server guest exports it; "nfs-ganesha": nfs-ganesha in the
                                 // server guest does (NFSv4, port 2050); "host-9p": a host directory QEMU
                                 // shares with both clients over virtio-9p (no server guest's part)
    const char* export_options;  // kernel-nfsd: exports(5) options, e.g. "rw,sync,no_subtree_check,no_root_squash";
                                 // nfs-ganesha: EXPORT block keys as key=value, e.g. "Access_Type=RW,Squash=No_Root_Squash";
                                 // "" for host-9p
    const char* mount_options;   // what the clients ask for: nfs(5) options, e.g. "vers=3,nolock,soft,timeo=100,retrans=3";
                                 // for host-9p mount -t 9p options, e.g. "trans=virtio,version=9p2000.L,cache=none"
    const char* source;          // the documentation that says what these options mean, e.g. "nfs(5): nolock"
};

struct PluginDescriptor {
    std::uint32_t api_version;  // kPluginApiVersion the plugin was built against
    const char* name;           // plugin folder name, e.g. "posix-fcntl"
    const char* version;
    std::size_t primitive_count;  // 0 to 64; 0 only in a plugin that provides target kinds
    const PrimitiveDescriptor* primitives;
    // Since API version 2 (read only from plugins that say so); defaulted, so
    // a descriptor written for version 1 still compiles, warning-free:
    std::size_t target_kind_count = 0;  // 0 to 16
    const TargetKindDescriptor* target_kinds = nullptr;
    // Since API version 3, likewise:
    std::size_t network_mount_count = 0;  // 0 to 32
    const NetworkMountDescriptor* network_mounts = nullptr;
};

// Helpers for plugin authors: build results without touching the struct by hand.
inline OpResult op_ok() noexcept { return OpResult{OpStatus::ok, 0, {}}; }

__attribute__((format(printf, 3, 4))) inline OpResult op_fail(OpStatus status, int err,
                                                               const char* fmt, ...) noexcept {
    OpResult r{status, err, {}};
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(r.message, sizeof r.message, fmt, ap);
    va_end(ap);
    return r;
}

// A failed syscall: busy for the errnos that mean "someone else holds it",
// else error; the message is "<what>: <strerror(err)>".
inline OpResult op_errno(const char* what, int err) noexcept {
    const bool conflict = err == EAGAIN || err == EWOULDBLOCK || err == EACCES;
    return op_fail(conflict ? OpStatus::busy : OpStatus::error, err, "%s: %s", what,
                   std::strerror(err));
}

}  // namespace ilk

// Export a plugin: ILK_PLUGIN(descriptor) in exactly one source file of the plugin.
#include <boost/dll/alias.hpp>
#define ILK_PLUGIN(descriptor)                                                          \
    namespace ilk_plugin_export {                                                       \
    std::uint32_t api_version() { return ::ilk::kPluginApiVersion; }                    \
    const ::ilk::PluginDescriptor* plugin() { return &(descriptor); }                   \
    }                                                                                   \
    BOOST_DLL_ALIAS(ilk_plugin_export::api_version, ilk_plugin_api_version)             \
    BOOST_DLL_ALIAS(ilk_plugin_export::plugin, ilk_plugin)
