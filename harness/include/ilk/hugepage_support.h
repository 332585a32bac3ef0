// Helpers for segment plugins that need huge pages (sysv-huge, hugetlbfs).
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ilk/plugin.h"

namespace ilk {

// A /proc/meminfo field in its own unit (kB for sizes), or -1.
inline long meminfo_field(const char* field) {
    FILE* f = std::fopen("/proc/meminfo", "re");
    if (!f) return -1;
    char line[256];
    long value = -1;
    const size_t n = std::strlen(field);
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
            value = std::strtol(line + n + 1, nullptr, 10);
            break;
        }
    }
    std::fclose(f);
    return value;
}

inline std::uint64_t huge_page_bytes() {
    const long kb = meminfo_field("Hugepagesize");
    return kb > 0 ? static_cast<std::uint64_t>(kb) * 1024 : 2u << 20;
}

inline std::uint64_t round_to_huge_pages(std::uint64_t size) {
    const std::uint64_t page = huge_page_bytes();
    return (size + page - 1) / page * page;
}

inline constexpr const char* kOvercommitPath = "/proc/sys/vm/nr_overcommit_hugepages";

// vm.nr_overcommit_hugepages is one value for the whole host, and runs overlap:
// so a run never sets it to a value, it adds its pages and later takes them
// away again (never below 0), each read-modify-write under an exclusive flock
// on the sysctl file itself. Every process on the host that opens that file
// gets the same inode, whatever its state directory, so no two changes
// interleave and none is lost. The lock is only held for a read and a write;
// waiting longer means a holder is stopped, and we give up (EWOULDBLOCK).
inline int sysctl_lock(const char* path) {
    const int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    for (int waited_ms = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; ++waited_ms) {
        const int err = errno;
        if ((err != EWOULDBLOCK && err != EINTR) || waited_ms >= 10000) {
            close(fd);
            return -err;
        }
        usleep(1000);
    }
    return fd;  // closing it releases the lock
}

// Read or write the integer of a sysctl fd at offset 0 (a sysctl ignores
// numeric writes elsewhere). Return 0 or an errno.
inline int sysctl_read(int fd, long* value) {
    char buf[32] = {};
    const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) return errno;
    char* end = nullptr;
    errno = 0;
    *value = std::strtol(buf, &end, 10);
    return end == buf || errno != 0 ? EIO : 0;
}

inline int sysctl_write(int fd, long value) {
    char buf[32];
    const int len = std::snprintf(buf, sizeof buf, "%ld\n", value);
    return pwrite(fd, buf, static_cast<size_t>(len), 0) == len ? 0 : errno;
}

// Add delta to a sysctl (a negative delta lowers it, never below 0) under its
// flock. *before and *after receive the values. Returns 0 or an errno.
inline int adjust_sysctl_locked(const char* path, long delta, long* before, long* after) {
    const int fd = sysctl_lock(path);
    if (fd < 0) return -fd;
    long now = 0;
    int err = sysctl_read(fd, &now);
    const long wanted = now + delta < 0 ? 0 : now + delta;
    if (err == 0) err = sysctl_write(fd, wanted);
    close(fd);
    if (err == 0) {
        *before = now;
        *after = wanted;
    }
    return err;
}

// Make sure `pages` huge pages can be had. The host's reserved pool is used if
// it has them free; otherwise, as root, surplus pages are allowed by raising
// vm.nr_overcommit_hugepages by `pages`. That change is journaled first
// ("sysctl-add <path> <pages>"), so the harness takes the pages away again
// after the run (also after a crash of the kit), whatever other runs did meanwhile.
inline OpResult ensure_huge_pages(const ProbeContext* ctx, long pages) {
    const long free_pages = meminfo_field("HugePages_Free");
    FILE* f = std::fopen(kOvercommitPath, "re");
    long overcommit = -1;
    if (f) {
        if (std::fscanf(f, "%ld", &overcommit) != 1) overcommit = -1;
        std::fclose(f);
    }
    const long surplus = meminfo_field("HugePages_Surp");
    if (free_pages >= pages || (overcommit >= 0 && overcommit - (surplus > 0 ? surplus : 0) >= pages))
        return op_ok();
    if (!ctx->is_root)
        return op_fail(OpStatus::unsupported, 0,
                       "no huge pages free (HugePages_Free=%ld, nr_overcommit_hugepages=%ld); "
                       "reserve some (echo %ld > /proc/sys/vm/nr_hugepages) or run as root",
                       free_pages, overcommit, pages);
    if (overcommit < 0)
        return op_fail(OpStatus::unsupported, errno, "cannot read %s", kOvercommitPath);
    char what[160];
    std::snprintf(what, sizeof what, "%s %ld", kOvercommitPath, pages);
    if (ctx->journal(ctx->journal_self, "sysctl-add", what) != 0)
        return op_fail(OpStatus::error, 0, "could not journal %s before changing it", kOvercommitPath);
    long before = 0, after = 0;
    if (const int err = adjust_sysctl_locked(kOvercommitPath, pages, &before, &after))
        return op_errno("raise /proc/sys/vm/nr_overcommit_hugepages", err);
    return op_ok();
}

}  // namespace ilk
