// Broken on purpose: an flock whose holder loses it when it forks (the child
// drops the shared lock at fork time), as a server would when starting backends.
#include <pthread.h>
#include <sys/file.h>

#include "ilk/plugin.h"

namespace {
int g_locked[64];
int g_count = 0;

void drop_in_child() {
    for (int i = 0; i < g_count; ++i) flock(g_locked[i], LOCK_UN);
    g_count = 0;
}

ilk::OpResult acquire(int fd, std::int32_t wait) {
    static const bool registered = pthread_atfork(nullptr, nullptr, drop_in_child) == 0;
    (void)registered;
    if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) return ilk::op_errno("flock", errno);
    if (g_count < 64) g_locked[g_count++] = fd;
    return ilk::op_ok();
}
ilk::OpResult release(int fd) {
    if (flock(fd, LOCK_UN) != 0) return ilk::op_errno("flock(LOCK_UN)", errno);
    return ilk::op_ok();
}
ilk::OpResult supported(const ilk::ProbeContext*) { return ilk::op_ok(); }
const ilk::LockOps kOps{acquire, release, nullptr};
const ilk::PrimitiveDescriptor kPrimitives[] = {{"fork-releases", ilk::PrimitiveKind::lock, "fake: flock dropped at fork",
                                                 ilk::kLockCanBlock, supported, nullptr, &kOps, nullptr}};
const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "fake-fork-releases", "0", 1, kPrimitives};
}  // namespace

ILK_PLUGIN(kPlugin)
