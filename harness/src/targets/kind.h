// A target kind: how the kit makes one kind of target (a filesystem or mount
// for the data directories). One file per kind in this folder, each ending in
// its descriptor, and one line in all.cpp's table; plugins add kinds through
// the SDK (ilk/plugin.h, TargetKindDescriptor), adapted in plugin_kind.cpp.
// Nothing outside this folder branches on a target's name.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ilk {

class Journal;
struct PreparedTarget;

// A tool a kind needs, and the Debian package that brings it.
struct TargetTool {
    std::string binary, package;
};

struct TargetKind {
    std::string name;
    std::string summary;
    bool needs_root = true;        // it mounts or attaches: without root it is UNSUPPORTED, with the reason
    bool segments_only = false;    // holds segments, not a data directory (hugetlbfs)
    std::vector<TargetTool> tools; // checked before set-up: a missing one names its package
    // Set-up: make the target under `base` (the run's scratch directory),
    // journaling each resource *before* making it; set t.dir (where the local
    // host works) and what else it knows (t.info, t.lower_dir, t.views).
    // Throws with the reason when it cannot.
    std::function<void(const std::filesystem::path& base, const Journal& journal, PreparedTarget& t)> setup;
    // Tear-down, for people: what the journal undoes (there is no tear-down
    // code per kind: the journal undoes every resource, also after a crash).
    std::string teardown;
    std::string plugin;  // the plugin that provides it; empty for the kit's own
};

// The kit's own kinds, in the order `ilk run` with no --target covers them (all.cpp).
const std::vector<TargetKind>& builtin_target_kinds();

}  // namespace ilk
