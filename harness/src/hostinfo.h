// Facts about the machine and the target directory that every report carries.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace ilk {

// os, kernel release and version, machine, hostname, libc, compiler, kit version, uid.
nlohmann::json host_info();

// path, filesystem type, mount point, mount and superblock options, device.
nlohmann::json target_info(const std::filesystem::path& dir);

}  // namespace ilk

namespace ilk {
// uname's sysname ("Linux"): picks the platform profile.
std::string host_info_os();
}  // namespace ilk
