// Targets: where the data directories live. Either a directory the user names
// (the kit works in a journaled scratch subdirectory there) or a target of a
// kind the kit sets up itself when root (targets/: tmpfs, ext4/xfs/btrfs on
// loop images, overlayfs, FUSE with and without lock forwarding, hugetlbfs
// for segments only; and the kinds plugins provide). Everything a target
// mounts, attaches or creates is journaled before it is made and undone when
// the journal finishes.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "targets/kind.h"

namespace ilk {

class Journal;
class Registry;

// The target kinds: the kit's own (harness/src/targets/, one file each) and,
// with a registry, those its plugins provide, in that order. A plugin kind
// whose name is one of the kit's own is not listed (the kit's own wins).
std::vector<TargetKind> target_kinds(const Registry* registry = nullptr);
// nullopt when there is no kind of that name.
std::optional<TargetKind> find_target_kind(std::string_view name, const Registry* registry = nullptr);
std::vector<std::string> target_kind_names(const Registry* registry = nullptr);

// "no target named 'ext5' (did you mean 'ext4'?); known: tmpfs, ext4, ..."
std::string unknown_target_message(std::string_view name, const Registry* registry = nullptr);

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
    // Where each host sees `dir`, by host name, when not at the same path: a
    // host that shares this machine's filesystem (a container on the same
    // volume) sees it where the local host does; a kind whose hosts mount it
    // themselves (an NFS export on each client) names each host's path here.
    std::map<std::string, std::filesystem::path> views;
    double setup_ms = 0;

    // Where `host` sees the target's directory.
    std::filesystem::path view(const std::string& host) const;
};

// Set up one target under the journal's scratch directory (kit-made, or a
// plugin's kind when `registry` is given) or in the named directory. Never
// throws for a target that cannot be had here: the reason goes to
// `unsupported` (not root, tool missing with its package, mount refused, a
// plugin's set-up crashed); throws std::invalid_argument for an unknown name.
PreparedTarget prepare_target(const std::string& spec, const Journal& journal, const Registry* registry = nullptr);

}  // namespace ilk
