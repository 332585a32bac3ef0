// Broken on purpose: an flock that comes free only about 1.5 s after its
// holder is SIGKILLed. acquire() forks a helper that inherits the locked fd
// (the same open file description, so the same flock); once the holder is
// gone the helper lingers 1.5 s before it exits, and the lock goes with it.
// Every yes/no fact looks right: the lock excludes, and it *is* released on
// the holder's death, within the 2 s the probe used to wait. What is wrong is
// the time: a server restarted after a crash is refused for 1.5 s, and a
// strategy that gives up sooner calls the directory busy with nothing alive
// holding it. Only the hand-over time (locks.slow-release.handover_ms), held
// to the profile's bound, shows it.
#include <signal.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <iterator>

#include "ilk/plugin.h"

namespace {

constexpr long kLingerMs = 1500;   // how long the lock outlives its holder
constexpr long kLifetimeMs = 3000;  // the helper never lives longer, whatever happens
constexpr long kPollMs = 5;        // how often the helper looks for its holder

long now_ms() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void nap(long ms) {
    if (ms <= 0) return;
    timespec t{ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&t, &t) != 0) {
    }
}

// The helper: keeps the open file description until its holder has been gone
// for kLingerMs, and never past kLifetimeMs, so nothing of a test outlives it.
[[noreturn]] void linger(pid_t holder, int fd) {
    // Keep only the locked descriptor: the caller's sockets and pipes must see
    // their hang-ups when the caller dies.
    if (fd > 0) close_range(0, static_cast<unsigned>(fd - 1), 0);
    close_range(static_cast<unsigned>(fd + 1), ~0U, 0);
    signal(SIGTERM, SIG_DFL);
    const long end = now_ms() + kLifetimeMs;
    while (getppid() == holder && now_ms() < end) nap(kPollMs);
    const long left = end - now_ms();
    nap(left < kLingerMs ? left : kLingerMs);
    _exit(0);
}

ilk::OpResult acquire(int fd, std::int32_t wait) {
    if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) return ilk::op_errno("flock", errno);
    const pid_t holder = getpid();
    const pid_t helper = fork();
    if (helper < 0) return ilk::op_errno("fork", errno);
    if (helper == 0) linger(holder, fd);
    return ilk::op_ok();
}
ilk::OpResult release(int fd) {
    if (flock(fd, LOCK_UN) != 0) return ilk::op_errno("flock(LOCK_UN)", errno);
    return ilk::op_ok();
}
ilk::OpResult supported(const ilk::ProbeContext*) { return ilk::op_ok(); }
const ilk::LockOps kOps{.acquire = acquire, .release = release, .query = nullptr};
const ilk::PrimitiveDescriptor kPrimitives[] = {{
    .name = "slow-release",
    .kind = ilk::PrimitiveKind::lock,
    .summary = "fake: flock released 1.5 s after its holder is SIGKILLed",
    .caps = ilk::kLockCanBlock,
    .supported = supported,
    .prepare = nullptr,
    .lock = &kOps,
    .segment = nullptr,
}};
const ilk::PluginDescriptor kPlugin{.api_version = ilk::kPluginApiVersion,
                                    .name = "fake-slow-release",
                                    .version = "0",
                                    .primitive_count = std::size(kPrimitives),
                                    .primitives = kPrimitives};
}  // namespace

ILK_PLUGIN(kPlugin)
