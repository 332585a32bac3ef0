// sysv-shm: System V shared memory segments (shmget/shmat), the kind whose
// shm_nattch PostgreSQL's interlock reads. Two primitives: `sysv` (normal
// pages) and `sysv-huge` (SHM_HUGETLB, the seed thread's hugepage case).
#include <sys/ipc.h>
#include <sys/shm.h>

#include "ilk/hugepage_support.h"
#include "ilk/plugin.h"

namespace {

template <bool Huge>
struct Sysv {
    static int flags() { return Huge ? SHM_HUGETLB : 0; }
    static std::uint64_t rounded(std::uint64_t size) { return Huge ? ilk::round_to_huge_pages(size) : size; }

    static ilk::OpResult create(const ilk::ProbeContext*, std::int64_t key, std::size_t size, ilk::SegmentRef* out) {
        const std::uint64_t bytes = rounded(size);
        const int id = shmget(static_cast<key_t>(key), bytes, IPC_CREAT | IPC_EXCL | 0600 | flags());
        if (id < 0) {
            if (errno == EEXIST) return ilk::op_fail(ilk::OpStatus::busy, errno, "key %lld is taken", static_cast<long long>(key));
            if (Huge && errno == ENOMEM) return ilk::op_fail(ilk::OpStatus::unsupported, errno, "shmget(SHM_HUGETLB): no huge pages free");
            return ilk::op_errno("shmget(IPC_CREAT|IPC_EXCL)", errno);
        }
        *out = ilk::SegmentRef{key, id, bytes, {}};
        return ilk::op_ok();
    }

    static ilk::OpResult lookup(const ilk::ProbeContext*, std::int64_t key, ilk::SegmentRef* out) {
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

    static ilk::OpResult attach(const ilk::SegmentRef* ref, void** addr) {
        void* p = shmat(static_cast<int>(ref->id), nullptr, 0);
        if (p == reinterpret_cast<void*>(-1)) {
            if (errno == EINVAL || errno == EIDRM) return ilk::op_fail(ilk::OpStatus::not_found, errno, "shmat(%lld): %s", static_cast<long long>(ref->id), std::strerror(errno));
            return ilk::op_errno("shmat", errno);
        }
        *addr = p;
        return ilk::op_ok();
    }

    static ilk::OpResult detach(const ilk::SegmentRef*, void* addr) {
        if (shmdt(addr) == 0) return ilk::op_ok();
        return ilk::op_errno("shmdt", errno);
    }

    static ilk::OpResult attach_count(const ilk::SegmentRef* ref, std::int64_t* count) {
        struct shmid_ds ds {};
        if (shmctl(static_cast<int>(ref->id), IPC_STAT, &ds) != 0) {
            if (errno == EINVAL || errno == EIDRM) return ilk::op_fail(ilk::OpStatus::not_found, errno, "segment %lld is gone", static_cast<long long>(ref->id));
            return ilk::op_errno("shmctl(IPC_STAT)", errno);
        }
        *count = static_cast<std::int64_t>(ds.shm_nattch);
        return ilk::op_ok();
    }

    static ilk::OpResult remove(const ilk::SegmentRef* ref) {
        if (shmctl(static_cast<int>(ref->id), IPC_RMID, nullptr) == 0) return ilk::op_ok();
        if (errno == EINVAL || errno == EIDRM) return ilk::op_fail(ilk::OpStatus::not_found, errno, "segment %lld is gone", static_cast<long long>(ref->id));
        return ilk::op_errno("shmctl(IPC_RMID)", errno);
    }

    // Walk every segment of this IPC namespace; remove only those with our key
    // that the journaled process created.
    static ilk::OpResult reclaim(const ilk::ProbeContext*, std::int64_t key, std::int64_t creator_pid) {
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

    static ilk::OpResult prepare(const ilk::ProbeContext* ctx) {
        return Huge ? ilk::ensure_huge_pages(ctx, 4) : ilk::op_ok();
    }

    // Create and remove a private segment for real.
    static ilk::OpResult supported(const ilk::ProbeContext*) {
        const int id = shmget(IPC_PRIVATE, rounded(4096), IPC_CREAT | 0600 | flags());
        if (id < 0) {
            const int err = errno;
            if (Huge && err == ENOMEM)
                return ilk::op_fail(ilk::OpStatus::unsupported, err,
                                    "shmget(SHM_HUGETLB) failed: no huge pages free (HugePages_Free=%ld)",
                                    ilk::meminfo_field("HugePages_Free"));
            return ilk::op_fail(ilk::OpStatus::unsupported, err, "shmget(IPC_PRIVATE%s) failed: %s",
                                Huge ? "|SHM_HUGETLB" : "", std::strerror(err));
        }
        shmctl(id, IPC_RMID, nullptr);
        return ilk::op_ok();
    }

    static constexpr ilk::SegmentOps ops{create, lookup, attach, detach, attach_count, remove, reclaim};
};

constexpr std::uint64_t kCaps = ilk::kSegAttachCount | ilk::kSegKeyed;

const ilk::PrimitiveDescriptor kPrimitives[] = {
    {"sysv", ilk::PrimitiveKind::segment, "System V segment, shmget/shmat, attach count from shm_nattch", kCaps,
     Sysv<false>::supported, Sysv<false>::prepare, nullptr, &Sysv<false>::ops},
    {"sysv-huge", ilk::PrimitiveKind::segment, "System V segment on huge pages (SHM_HUGETLB)", kCaps,
     Sysv<true>::supported, Sysv<true>::prepare, nullptr, &Sysv<true>::ops},
};

const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "sysv-shm", "1.0", 2, kPrimitives};

}  // namespace

ILK_PLUGIN(kPlugin)
