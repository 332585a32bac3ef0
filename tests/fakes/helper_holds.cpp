// Broken on purpose: an flock really held by a helper process the primitive
// forks, so the lock outlives the server and all of its backends. A lifetime
// strategy on it must not be judged as good as one on flock: once the server
// and its backends are gone, the helper still keeps the directory locked and
// the next lone starter is refused (STUCK), with the helper named.
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <iterator>

#include "ilk/plugin.h"

namespace {

// The helper keeps the open file description (and with it the flock) for at
// most this long, so that nothing of a test outlives it for good.
constexpr unsigned kHelperLifetimeSeconds = 60;

ilk::OpResult acquire(int fd, std::int32_t wait) {
    if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) return ilk::op_errno("flock", errno);
    const pid_t helper = fork();
    if (helper < 0) return ilk::op_errno("fork", errno);
    if (helper == 0) {
        // Keep only the locked descriptor: the caller's sockets and pipes must
        // see their hang-ups when the caller dies.
        if (fd > 0) close_range(0, static_cast<unsigned>(fd - 1), 0);
        close_range(static_cast<unsigned>(fd + 1), ~0U, 0);
        signal(SIGTERM, SIG_DFL);
        sleep(kHelperLifetimeSeconds);
        _exit(0);
    }
    return ilk::op_ok();
}
ilk::OpResult release(int fd) {
    if (flock(fd, LOCK_UN) != 0) return ilk::op_errno("flock(LOCK_UN)", errno);
    return ilk::op_ok();
}
ilk::OpResult supported(const ilk::ProbeContext*) { return ilk::op_ok(); }
const ilk::LockOps kOps{.acquire = acquire, .release = release, .query = nullptr};
const ilk::PrimitiveDescriptor kPrimitives[] = {{
    .name = "helper-holds",
    .kind = ilk::PrimitiveKind::lock,
    .summary = "fake: flock kept by a forked helper that outlives its holder",
    .caps = ilk::kLockCanBlock,
    .supported = supported,
    .prepare = nullptr,
    .lock = &kOps,
    .segment = nullptr,
}};
const ilk::PluginDescriptor kPlugin{.api_version = ilk::kPluginApiVersion,
                                    .name = "fake-helper-holds",
                                    .version = "0",
                                    .primitive_count = std::size(kPrimitives),
                                    .primitives = kPrimitives};
}  // namespace

ILK_PLUGIN(kPlugin)
