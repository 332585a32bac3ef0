// hugetlbfs: segments as files on a hugetlbfs mount, mapped with mmap. This is
// the seed thread's "hugepages segment": nothing counts who has it mapped.
// The plugin keeps no state between calls (each call may run in another
// process): it finds the mount again from /proc/self/mounts every time.
#include <dirent.h>
#include <fcntl.h>
#include <mntent.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ilk/hugepage_support.h"
#include "ilk/plugin.h"

namespace {

constexpr const char* kPrefix = "ilk-seg-";

// The hugetlbfs mount to use: one inside the run's scratch directory (ours)
// first, else (unless ours_only) the first writable one of the host. Empty if none.
bool find_mount(const ilk::ProbeContext* ctx, char* out, size_t n, bool ours_only = false) {
    FILE* f = setmntent("/proc/self/mounts", "re");
    if (!f) return false;
    bool found = false;
    const size_t scratch_len = ctx && ctx->scratch_dir ? std::strlen(ctx->scratch_dir) : 0;
    while (struct mntent* m = getmntent(f)) {
        if (std::strcmp(m->mnt_type, "hugetlbfs") != 0 || access(m->mnt_dir, W_OK) != 0) continue;
        const bool ours = scratch_len && std::strncmp(m->mnt_dir, ctx->scratch_dir, scratch_len) == 0;
        if (ours_only && !ours) continue;
        if (!found || ours) {
            std::snprintf(out, n, "%s", m->mnt_dir);
            found = true;
            if (ours) break;
        }
    }
    endmntent(f);
    return found;
}

// False if the path does not fit (a mount point deeper than any sane one).
bool segment_path(const char* mount, std::int64_t key, char* out, size_t n) {
    const int len = std::snprintf(out, n, "%s/%s%lld", mount, kPrefix, static_cast<long long>(key));
    return len > 0 && static_cast<size_t>(len) < n;
}

ilk::OpResult prepare(const ilk::ProbeContext* ctx) {
    char mount_dir[256];
    // As root, always a mount of the run's own: a writable hugetlbfs of the
    // host may be another run's, whose segments have the same names (keys
    // come from inode numbers, alike on two runs' fresh loop images), and
    // two runs at once would read each other's segments.
    if (!find_mount(ctx, mount_dir, sizeof mount_dir, ctx->is_root)) {
        if (!ctx->is_root)
            return ilk::op_fail(ilk::OpStatus::unsupported, 0,
                                "no writable hugetlbfs mount (mount -t hugetlbfs none DIR, or run as root)");
        std::snprintf(mount_dir, sizeof mount_dir, "%s/hugetlbfs", ctx->scratch_dir);
        if (ctx->journal(ctx->journal_self, "mount", mount_dir) != 0)
            return ilk::op_fail(ilk::OpStatus::error, 0, "could not journal mount %s", mount_dir);
        if (mkdir(mount_dir, 0700) != 0 && errno != EEXIST) return ilk::op_errno("mkdir hugetlbfs mount point", errno);
        // Sticky and world-writable like /tmp: contenders may run under a dedicated uid.
        if (mount("ilk-hugetlbfs", mount_dir, "hugetlbfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0)
            return ilk::op_fail(ilk::OpStatus::unsupported, errno, "mount -t hugetlbfs %s: %s", mount_dir,
                                std::strerror(errno));
    }
    return ilk::ensure_huge_pages(ctx, 4);
}

ilk::OpResult supported(const ilk::ProbeContext* ctx) {
    char mount_dir[256];
    if (!find_mount(ctx, mount_dir, sizeof mount_dir))
        return ilk::op_fail(ilk::OpStatus::unsupported, 0, "no writable hugetlbfs mount found in /proc/self/mounts");
    char path[512];
    std::snprintf(path, sizeof path, "%s/.ilk-support-%d", mount_dir, static_cast<int>(getpid()));
    const int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ilk::op_fail(ilk::OpStatus::unsupported, errno, "create %s: %s", path, std::strerror(errno));
    unlink(path);
    const std::uint64_t size = ilk::huge_page_bytes();
    void* p = ftruncate(fd, static_cast<off_t>(size)) == 0
                  ? mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    const int err = errno;
    close(fd);
    if (p == MAP_FAILED)
        return ilk::op_fail(ilk::OpStatus::unsupported, err, "map a huge page from %s: %s", mount_dir, std::strerror(err));
    static_cast<volatile char*>(p)[0] = 1;  // fault the page in: only this proves a page was there
    munmap(p, size);
    return ilk::op_ok();
}

ilk::OpResult create(const ilk::ProbeContext* ctx, std::int64_t key, std::size_t size, ilk::SegmentRef* out) {
    char mount_dir[256];
    if (!find_mount(ctx, mount_dir, sizeof mount_dir))
        return ilk::op_fail(ilk::OpStatus::unsupported, 0, "no writable hugetlbfs mount");
    ilk::SegmentRef ref{key, -1, ilk::round_to_huge_pages(size), {}};
    if (!segment_path(mount_dir, key, ref.path, sizeof ref.path))
        return ilk::op_fail(ilk::OpStatus::error, ENAMETOOLONG, "hugetlbfs mount path %s is too long", mount_dir);
    const int fd = open(ref.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return ilk::op_fail(ilk::OpStatus::busy, errno, "%s exists", ref.path);
        return ilk::op_errno("create hugetlbfs segment", errno);
    }
    const int rc = ftruncate(fd, static_cast<off_t>(ref.size));
    const int err = errno;
    close(fd);
    if (rc != 0) {
        unlink(ref.path);
        return ilk::op_errno("ftruncate hugetlbfs segment", err);
    }
    *out = ref;
    return ilk::op_ok();
}

ilk::OpResult lookup(const ilk::ProbeContext* ctx, std::int64_t key, ilk::SegmentRef* out) {
    char mount_dir[256];
    if (!find_mount(ctx, mount_dir, sizeof mount_dir))
        return ilk::op_fail(ilk::OpStatus::not_found, 0, "no hugetlbfs mount");
    ilk::SegmentRef ref{key, -1, 0, {}};
    if (!segment_path(mount_dir, key, ref.path, sizeof ref.path))
        return ilk::op_fail(ilk::OpStatus::not_found, ENAMETOOLONG, "hugetlbfs mount path %s is too long", mount_dir);
    struct stat st {};
    if (stat(ref.path, &st) != 0) {
        if (errno == ENOENT) return ilk::op_fail(ilk::OpStatus::not_found, errno, "no %s", ref.path);
        return ilk::op_errno("stat hugetlbfs segment", errno);
    }
    ref.size = static_cast<std::uint64_t>(st.st_size);
    *out = ref;
    return ilk::op_ok();
}

ilk::OpResult attach(const ilk::SegmentRef* ref, void** addr) {
    const int fd = open(ref->path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return ilk::op_fail(ilk::OpStatus::not_found, errno, "no %s", ref->path);
        return ilk::op_errno("open hugetlbfs segment", errno);
    }
    void* p = mmap(nullptr, ref->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const int err = errno;
    close(fd);
    if (p == MAP_FAILED) return ilk::op_errno("mmap hugetlbfs segment", err);
    *addr = p;
    return ilk::op_ok();
}

ilk::OpResult detach(const ilk::SegmentRef* ref, void* addr) {
    if (munmap(addr, ref->size) == 0) return ilk::op_ok();
    return ilk::op_errno("munmap", errno);
}

ilk::OpResult attach_count(const ilk::SegmentRef*, std::int64_t*) {
    return ilk::op_fail(ilk::OpStatus::unsupported, 0, "a mapped hugetlbfs file keeps no count of attached processes");
}

ilk::OpResult remove(const ilk::SegmentRef* ref) {
    if (unlink(ref->path) == 0) return ilk::op_ok();
    if (errno == ENOENT) return ilk::op_fail(ilk::OpStatus::not_found, errno, "no %s", ref->path);
    return ilk::op_errno("unlink hugetlbfs segment", errno);
}

// Segment files are named by key only, and two runs' keys can be alike (they
// come from inode numbers): a segment is reclaimed where this run makes them,
// the mount find_mount picks for its scratch directory (its own, as root),
// never on another hugetlbfs mount of the host.
ilk::OpResult reclaim(const ilk::ProbeContext* ctx, std::int64_t key, std::int64_t) {
    char mount_dir[256], path[512];
    if (!find_mount(ctx, mount_dir, sizeof mount_dir)) return ilk::op_ok();  // no mount: its files went with it
    if (segment_path(mount_dir, key, path, sizeof path) && unlink(path) != 0 && errno != ENOENT)
        return ilk::op_errno("unlink hugetlbfs segment", errno);
    return ilk::op_ok();
}

const ilk::SegmentOps kOps{create, lookup, attach, detach, attach_count, remove, reclaim};

const ilk::PrimitiveDescriptor kPrimitives[] = {{
    "hugetlbfs", ilk::PrimitiveKind::segment, "file on a hugetlbfs mount, mmap(MAP_SHARED); no attach count",
    ilk::kSegFileBacked, supported, prepare, nullptr, &kOps}};

const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "hugetlbfs", "1.0", 1, kPrimitives};

}  // namespace

ILK_PLUGIN(kPlugin)
