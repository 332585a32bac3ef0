#include "hostinfo.h"

#include <gnu/libc-version.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace ilk {

nlohmann::json host_info() {
    utsname u{};
    uname(&u);
    return {
        {"os", u.sysname},
        {"kernel", u.release},
        {"kernel_version", u.version},
        {"machine", u.machine},
        {"hostname", u.nodename},
        {"libc", std::string("glibc ") + gnu_get_libc_version()},
        {"compiler", std::string("gcc ") + __VERSION__},
        {"ilk_version", ILK_VERSION},
        {"uid", geteuid()},
    };
}

namespace {

// The /proc/self/mountinfo line whose mount point is the longest prefix of
// path; with by_path false it must also be on the device of st.
void read_mount(const std::string& path, const struct stat& st, bool by_path, nlohmann::json& out) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line, best_point;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string id, parent, devno, root, point, options, field;
        f >> id >> parent >> devno >> root >> point >> options;
        unsigned maj = 0, min = 0;
        if (std::sscanf(devno.c_str(), "%u:%u", &maj, &min) != 2) continue;
        if (!by_path && (maj != major(st.st_dev) || min != minor(st.st_dev))) continue;
        const bool prefix = path.compare(0, point.size(), point) == 0 &&
                            (point == "/" || path.size() == point.size() || path[point.size()] == '/');
        if (!prefix || point.size() < best_point.size()) continue;
        while (f >> field && field != "-") {
        }
        std::string fstype, source, super_options;
        f >> fstype >> source >> super_options;
        best_point = point;
        out["fstype"] = fstype;
        out["mount_point"] = point;
        out["mount_source"] = source;
        out["mount_options"] = options;
        out["super_options"] = super_options;
        out["device"] = devno;
    }
}

}  // namespace

// The mount holding dir: the line with the same device whose mount point is
// the longest prefix of the path; by path alone when no device matches
// (btrfs reports an anonymous device in stat(), not the mount's).
nlohmann::json target_info(const std::filesystem::path& dir) {
    std::error_code ec;
    const std::filesystem::path real = std::filesystem::canonical(dir, ec);
    nlohmann::json out{{"path", (ec ? dir : real).string()}};
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0) return out;
    read_mount(out["path"], st, false, out);
    if (!out.contains("fstype")) read_mount(out["path"], st, true, out);
    return out;
}

}  // namespace ilk

namespace ilk {
std::string host_info_os() {
    utsname u{};
    uname(&u);
    return u.sysname;
}
}  // namespace ilk
