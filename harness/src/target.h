// Targets: where the data directories live. Either a directory the user names
// (the kit works in a journaled scratch subdirectory there) or a filesystem
// the kit sets up itself when root: tmpfs, ext4/xfs/btrfs on loop images,
// overlayfs, FUSE (bindfs with and without lock forwarding), hugetlbfs
// (segments only). Everything a target mounts, attaches or creates is
// journaled before it is made and undone when the journal finishes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ilk {

class Journal;

// A tool a kit-made target needs, and the Debian package that brings it.
struct TargetTool {
    std::string_view binary, package;
};

struct TargetKind {
    std::string_view name;
    std::string_view summary;
    bool segments_only = false;  // holds segments, not a data directory (hugetlbfs)
    std::vector<TargetTool> tools;
};

// The kit-made targets, in the order `ilk run` with no --target covers them.
const std::vector<TargetKind>& target_kinds();
const TargetKind* find_target_kind(std::string_view name);
std::vector<std::string> target_kind_names();

// "no target named 'ext5' (did you mean 'ext4'?); known: tmpfs, ext4, ..."
std::string unknown_target_message(std::string_view name);

// Where a tool a target needs is (ILK_TOOL_PATH, else PATH and the sbin
// directories); empty when it is not installed.
std::string find_tool(std::string_view binary);

// A named --target is a kit-made target unless it looks like a path (has a '/', or is '.' or '..').
bool names_a_directory(std::string_view spec);

// Why `dir` cannot be a target (does not exist, not a directory, read-only
// mount, not writable), naming it and the fix; empty when usable.
std::string check_target_dir(const std::filesystem::path& dir);

struct PreparedTarget {
    std::string name;            // the kit-made name, or the directory as given
    std::string kind;            // "kit" or "directory"
    std::filesystem::path dir;   // where to work: a fresh, journaled directory on the target
    nlohmann::json info = nlohmann::json::object();  // what it really got: target_info() plus `requested` options
    std::string unsupported;     // non-empty: could not be set up here; why, and the fix
    bool segments_only = false;
    std::filesystem::path lower_dir;  // overlayfs: files of the lower layer, seen through the overlay
    double setup_ms = 0;
};

// Set up one target under the journal's scratch directory (kit-made) or in
// the named directory. Never throws for a target that cannot be had here: the
// reason goes to `unsupported` (not root, tool missing with its package, mount refused).
PreparedTarget prepare_target(const std::string& spec, const Journal& journal);

}  // namespace ilk
