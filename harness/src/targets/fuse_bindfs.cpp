#include "targets/fuse_bindfs.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "journal.h"
#include "target.h"
#include "targets/mount_util.h"

namespace ilk {

void setup_bindfs(const std::string& name, const std::vector<std::string>& extra, const std::filesystem::path& base,
                  const Journal& j, PreparedTarget& t) {
    namespace fs = std::filesystem;
    if (access("/dev/fuse", R_OK | W_OK) != 0)
        throw std::runtime_error(fmt::format("/dev/fuse is not usable: {} (load the fuse module: modprobe fuse)", std::strerror(errno)));
    const fs::path source = base / fmt::format("{}-source", name), mountpoint = base / name;
    fs::create_directories(source);
    fs::permissions(source, fs::perms(0755));
    if (!j.record("mount", mountpoint.string())) throw std::runtime_error("cannot journal the bindfs mount");
    fs::create_directories(mountpoint);
    std::vector<std::string> args{find_tool("bindfs"), "-o", "allow_other"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(source.string());
    args.push_back(mountpoint.string());
    run_tool(args);
    std::string options = "allow_other";
    for (const std::string& e : extra)
        if (e.rfind("--", 0) == 0) options += "," + e.substr(2);
    t.info["requested"] = {{"fstype", "fuse.bindfs"}, {"options", options}};
    t.info["fuse_source"] = source.string();
    t.dir = mountpoint;
}

}  // namespace ilk
