// Helpers for segment plugins that need huge pages (sysv-huge, hugetlbfs).
#pragma once

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

// Make sure `pages` huge pages can be had. The host's reserved pool is used if
// it has them free; otherwise, as root, surplus pages are allowed by raising
// vm.nr_overcommit_hugepages. That change is journaled first, so the harness
// writes the old value back after the run (also after a crash of the kit).
inline OpResult ensure_huge_pages(const ProbeContext* ctx, long pages) {
    static const char* kOvercommit = "/proc/sys/vm/nr_overcommit_hugepages";
    const long free_pages = meminfo_field("HugePages_Free");
    FILE* f = std::fopen(kOvercommit, "re");
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
        return op_fail(OpStatus::unsupported, errno, "cannot read %s", kOvercommit);
    char what[160];
    const long wanted = overcommit + pages;
    std::snprintf(what, sizeof what, "%s %ld %ld", kOvercommit, overcommit, wanted);
    if (ctx->journal(ctx->journal_self, "sysctl", what) != 0)
        return op_fail(OpStatus::error, 0, "could not journal %s before changing it", kOvercommit);
    f = std::fopen(kOvercommit, "we");
    if (!f) return op_errno("open /proc/sys/vm/nr_overcommit_hugepages", errno);
    const bool ok = std::fprintf(f, "%ld\n", wanted) > 0;
    if (std::fclose(f) != 0 || !ok) return op_errno("write /proc/sys/vm/nr_overcommit_hugepages", errno);
    return op_ok();
}

}  // namespace ilk
