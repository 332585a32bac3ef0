// bindfs over a directory of the scratch filesystem: the set-up the two FUSE
// kinds share (fuse.cpp, fuse_lockfwd.cpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ilk {

class Journal;
struct PreparedTarget;

// Mount bindfs at base/<name> over base/<name>-source with `extra` options
// (besides allow_other), journaled first; sets t.dir and t.info.
void setup_bindfs(const std::string& name, const std::vector<std::string>& extra, const std::filesystem::path& base,
                  const Journal& j, PreparedTarget& t);

}  // namespace ilk
