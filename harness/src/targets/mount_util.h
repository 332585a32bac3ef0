// What the kit's own target kinds share: running a set-up tool, journaled
// mounts and loop devices, sparse images.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "targets/kind.h"

namespace ilk {

class Journal;
struct PreparedTarget;

// Run a tool to completion (60 s at most); throws with its output on failure.
void run_tool(const std::vector<std::string>& args);

// Journal the mount point, make it, mount (MS_NOSUID | MS_NODEV); records
// what was asked for in t.info["requested"].
void mount_fs(const Journal& j, const std::string& source, const std::filesystem::path& dir, const char* type,
              const std::string& options, PreparedTarget& t);

// A filesystem on a sparse loop image: make the image, run `mkfs` (its
// arguments before the image's path), attach a journaled loop device, mount
// it at base/<name>; sets t.dir.
void setup_loop_image(const std::string& name, const std::vector<std::string>& mkfs, const std::filesystem::path& base,
                      const Journal& j, PreparedTarget& t);

// The kind of such a target: `fstype` made by `mkfs` (its first word is the
// tool, from `package`).
TargetKind loop_image_kind(const std::string& fstype, const std::vector<std::string>& mkfs, const std::string& package);

}  // namespace ilk
