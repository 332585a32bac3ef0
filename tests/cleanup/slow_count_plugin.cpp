// Test-only fake: `slow-count`, a segment primitive backed by real SysV
// segments whose attach_count() hangs. While one of its counts hangs, the kit
// holds real host resources (a segment, actor processes, the scratch directory
// and, as root, the real plugins' hugetlbfs mount and sysctl change), so the
// cleanup tests can SIGKILL or Ctrl-C it at a known point.
//
// Driven by the environment, which actors inherit from the harness:
//   ILK_SLOW_COUNT_SECONDS  how long a count hangs (default 60; 0 = answer at once)
//   ILK_SLOW_COUNT_MARKER   a file that gets "<pid>\n" appended when a count starts
//                           hanging, so a test waits for the act, not for a guess
//   ILK_SLOW_COUNT_HANG_IN  "supported": hang in supported() instead, which the
//                           harness runs in a sandboxed child, not in an actor
//
// A hanging count also drops its actor's parent-death signal: it stands for an
// actor stuck in an uninterruptible wait (a hung NFS server), which outlives a
// SIGKILLed kit. Only the journal can find such a process afterwards.
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>

#include "ilk/plugin.h"

namespace {

long hang_seconds() {
    const char* env = std::getenv("ILK_SLOW_COUNT_SECONDS");
    return env && *env ? std::strtol(env, nullptr, 10) : 60;
}

void announce_hang() {
    const char* marker = std::getenv("ILK_SLOW_COUNT_MARKER");
    if (!marker || !*marker) return;
    const int fd = open(marker, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    char line[32];
    const int n = std::snprintf(line, sizeof line, "%d\n", static_cast<int>(getpid()));
    if (n > 0 && write(fd, line, static_cast<size_t>(n)) < 0) {
        // Nothing to do: the test then times out waiting and says so.
    }
    close(fd);
}

// Sleep the whole time, also across signals that interrupt nanosleep.
void hang(long seconds) {
    timespec left{seconds, 0};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

bool hang_in(const char* hook) {
    const char* env = std::getenv("ILK_SLOW_COUNT_HANG_IN");
    return env && std::strcmp(env, hook) == 0;
}

ilk::OpResult create(const ilk::ProbeContext*, std::int64_t key, std::size_t size, ilk::SegmentRef* out) {
    const int id = shmget(static_cast<key_t>(key), size, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0) {
        if (errno == EEXIST) return ilk::op_fail(ilk::OpStatus::busy, errno, "key %lld is taken", static_cast<long long>(key));
        return ilk::op_errno("shmget(IPC_CREAT|IPC_EXCL)", errno);
    }
    *out = ilk::SegmentRef{key, id, size, {}};
    return ilk::op_ok();
}

ilk::OpResult lookup(const ilk::ProbeContext*, std::int64_t key, ilk::SegmentRef* out) {
    const int id = shmget(static_cast<key_t>(key), 0, 0);
    if (id < 0) {
        if (errno == ENOENT) return ilk::op_fail(ilk::OpStatus::not_found, errno, "no segment under key %lld", static_cast<long long>(key));
        return ilk::op_errno("shmget(key)", errno);
    }
    struct shmid_ds ds {};
    const std::uint64_t size = shmctl(id, IPC_STAT, &ds) == 0 ? ds.shm_segsz : 0;
    *out = ilk::SegmentRef{key, id, size, {}};
    return ilk::op_ok();
}

ilk::OpResult attach(const ilk::SegmentRef* ref, void** addr) {
    void* p = shmat(static_cast<int>(ref->id), nullptr, 0);
    if (p == reinterpret_cast<void*>(-1)) {
        if (errno == EINVAL || errno == EIDRM) return ilk::op_fail(ilk::OpStatus::not_found, errno, "segment %lld is gone", static_cast<long long>(ref->id));
        return ilk::op_errno("shmat", errno);
    }
    *addr = p;
    return ilk::op_ok();
}

ilk::OpResult detach(const ilk::SegmentRef*, void* addr) {
    if (shmdt(addr) == 0) return ilk::op_ok();
    return ilk::op_errno("shmdt", errno);
}

ilk::OpResult attach_count(const ilk::SegmentRef* ref, std::int64_t* count) {
    if (const long seconds = hang_seconds(); seconds > 0 && !hang_in("supported")) {
        prctl(PR_SET_PDEATHSIG, 0);
        announce_hang();
        hang(seconds);
    }
    struct shmid_ds ds {};
    if (shmctl(static_cast<int>(ref->id), IPC_STAT, &ds) != 0) return ilk::op_errno("shmctl(IPC_STAT)", errno);
    *count = static_cast<std::int64_t>(ds.shm_nattch);
    return ilk::op_ok();
}

ilk::OpResult remove(const ilk::SegmentRef* ref) {
    if (shmctl(static_cast<int>(ref->id), IPC_RMID, nullptr) == 0) return ilk::op_ok();
    if (errno == EINVAL || errno == EIDRM) return ilk::op_fail(ilk::OpStatus::not_found, errno, "segment %lld is gone", static_cast<long long>(ref->id));
    return ilk::op_errno("shmctl(IPC_RMID)", errno);
}

// Only segments under `key` that `creator_pid` created: the cleanup tests put a
// foreign segment under a journaled key and check that it survives.
ilk::OpResult reclaim(const ilk::ProbeContext*, std::int64_t key, std::int64_t creator_pid) {
    struct shm_info info {};
    const int max_index = shmctl(0, SHM_INFO, reinterpret_cast<struct shmid_ds*>(&info));
    if (max_index < 0) return ilk::op_errno("shmctl(SHM_INFO)", errno);
    for (int index = 0; index <= max_index; ++index) {
        struct shmid_ds ds {};
        const int id = shmctl(index, SHM_STAT, &ds);
        if (id < 0) continue;
        if (ds.shm_perm.__key == static_cast<key_t>(key) && ds.shm_cpid == static_cast<pid_t>(creator_pid))
            shmctl(id, IPC_RMID, nullptr);
    }
    return ilk::op_ok();
}

ilk::OpResult supported(const ilk::ProbeContext*) {
    if (hang_in("supported")) {
        announce_hang();
        hang(hang_seconds());
    }
    const int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id < 0) return ilk::op_fail(ilk::OpStatus::unsupported, errno, "shmget(IPC_PRIVATE): %s", std::strerror(errno));
    shmctl(id, IPC_RMID, nullptr);
    return ilk::op_ok();
}

const ilk::SegmentOps kOps{create, lookup, attach, detach, attach_count, remove, reclaim};

const ilk::PrimitiveDescriptor kPrimitives[] = {{
    "slow-count", ilk::PrimitiveKind::segment, "test fake: System V segment whose attach count hangs",
    ilk::kSegAttachCount | ilk::kSegKeyed, supported, nullptr, nullptr, &kOps}};

const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "slow-count", "0", 1, kPrimitives};

}  // namespace

ILK_PLUGIN(kPlugin)
