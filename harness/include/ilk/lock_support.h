// Helpers for lock plugins: the shared "is this lock usable on that directory?"
// probe, so each plugin file only holds its own syscalls and descriptor.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "ilk/plugin.h"

namespace ilk {

// Try the lock for real on a fresh file in ctx->scratch_dir (same filesystem as
// the target): an errno such as ENOLCK (NFS without lockd), EINVAL or ENOSYS
// becomes `unsupported` with the errno in the reason.
inline OpResult probe_lock_support(const ProbeContext* ctx, const LockOps& ops, const char* name) {
    char path[512];
    std::snprintf(path, sizeof path, "%s/.ilk-support-%s-%d", ctx->scratch_dir, name,
                  static_cast<int>(getpid()));
    const int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return op_errno("open support-probe file", errno);
    OpResult r = ops.acquire(fd, 0);
    if (r.status == OpStatus::ok) r = ops.release(fd);
    close(fd);
    unlink(path);
    if (r.status == OpStatus::error)
        return op_fail(OpStatus::unsupported, r.err, "%s lock on %s failed: %s", name,
                       ctx->scratch_dir, r.message);
    return r;
}

}  // namespace ilk
