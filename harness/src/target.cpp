#include "target.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include "hostinfo.h"
#include "journal.h"
#include "profile.h"  // closest_match
#include "registry.h"
#include "targets/plugin_kind.h"

namespace ilk {

namespace fs = std::filesystem;

// ILK_TOOL_PATH if set (tests use it to make a tool missing), else PATH and
// then the sbin directories a non-login root shell may lack.
std::string find_tool(std::string_view binary) {
    const char* override_path = std::getenv("ILK_TOOL_PATH");
    std::string path;
    if (override_path) {
        path = override_path;
    } else {
        path = std::getenv("PATH") ? std::getenv("PATH") : "";
        path += ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";
    }
    size_t start = 0;
    while (start <= path.size()) {
        const size_t end = std::min(path.find(':', start), path.size());
        if (end > start) {
            const fs::path candidate = fs::path(path.substr(start, end - start)) / binary;
            if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
        }
        start = end + 1;
    }
    return {};
}

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::vector<TargetKind> target_kinds(const Registry* registry) {
    std::vector<TargetKind> kinds = builtin_target_kinds();
    if (!registry) return kinds;
    const size_t own = kinds.size();
    for (const PluginTargetKind& p : registry->target_kinds()) {
        const bool clash = std::any_of(kinds.begin(), kinds.begin() + static_cast<std::ptrdiff_t>(own),
                                       [&](const TargetKind& k) { return k.name == p.desc->name; });
        if (!clash) kinds.push_back(plugin_target_kind(p));
    }
    return kinds;
}

std::optional<TargetKind> find_target_kind(std::string_view name, const Registry* registry) {
    for (TargetKind& k : target_kinds(registry))
        if (k.name == name) return std::move(k);
    return std::nullopt;
}

std::vector<std::string> target_kind_names(const Registry* registry) {
    std::vector<std::string> names;
    for (const TargetKind& k : target_kinds(registry)) names.push_back(k.name);
    return names;
}

std::string unknown_target_message(std::string_view name, const Registry* registry) {
    const std::vector<std::string> names = target_kind_names(registry);
    const std::string guess = closest_match(name, names);
    return fmt::format("no target named '{}'{}; kit-made targets: {}", name, guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess),
                       fmt::join(names, ", "));
}

bool names_a_directory(std::string_view spec) {
    return spec.find('/') != std::string_view::npos || spec == "." || spec == "..";
}

std::string check_target_dir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) return fmt::format("target {} does not exist: create it or name another --target", dir.string());
    if (!fs::is_directory(dir, ec))
        return fmt::format("target {} is not a directory: name the directory that would hold the data directory", dir.string());
    struct statvfs sv {};
    if (statvfs(dir.c_str(), &sv) == 0 && (sv.f_flag & ST_RDONLY))
        return fmt::format("target {} is on a read-only mount: remount it read-write or name another --target", dir.string());
    if (access(dir.c_str(), W_OK | X_OK) != 0)
        return fmt::format("target {} is not writable by uid {}: fix its permissions or run as its owner", dir.string(), geteuid());
    return {};
}

std::filesystem::path PreparedTarget::view(const std::string& host) const {
    const auto it = views.find(host);
    return it == views.end() ? dir : it->second;
}

PreparedTarget prepare_target(const std::string& spec, const Journal& journal, const Registry* registry) {
    const auto t0 = std::chrono::steady_clock::now();
    PreparedTarget t;
    t.name = spec;
    if (names_a_directory(spec)) {
        t.kind = "directory";
        if (std::string why = check_target_dir(spec); !why.empty()) {
            t.unsupported = why;
        } else {
            try {
                // Not ilk-scratch: $TMPDIR is both a target and where the run's own scratch directory goes.
                t.dir = journal.make_scratch(spec, "ilk-target");
                t.info = target_info(spec);
            } catch (const std::exception& e) {
                t.unsupported = e.what();
            }
        }
        t.setup_ms = ms_since(t0);
        return t;
    }
    t.kind = "kit";
    const std::optional<TargetKind> kind = find_target_kind(spec, registry);
    if (!kind) throw std::invalid_argument(fmt::format("no target named '{}'", spec));
    t.segments_only = kind->segments_only;
    if (!kind->plugin.empty()) t.info["plugin"] = kind->plugin;
    if (kind->needs_root && geteuid() != 0) {
        t.unsupported = fmt::format("the kit mounts {} itself, which needs root: run as root, or name a directory on such a filesystem", spec);
        return t;
    }
    for (const TargetTool& tool : kind->tools)
        if (find_tool(tool.binary).empty()) {
            t.unsupported = fmt::format("{} is not installed: apt-get install {}", tool.binary, tool.package);
            return t;
        }
    try {
        kind->setup(journal.scratch(), journal, t);
        const nlohmann::json requested = t.info.value("requested", nlohmann::json::object());
        const nlohmann::json got = target_info(t.dir);
        for (auto& [key, value] : got.items()) t.info[key] = value;
        t.info["requested"] = requested;
    } catch (const std::exception& e) {
        t.unsupported = fmt::format("could not set up {}: {}", spec, e.what());
        t.dir.clear();
    }
    t.setup_ms = ms_since(t0);
    return t;
}

}  // namespace ilk
