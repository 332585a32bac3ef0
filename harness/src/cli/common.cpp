// What the subcommands share: loading plugins, writing reports, checking
// targets, the profile to compare with.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/cli.h"
#include "hostinfo.h"
#include "target.h"

namespace fs = std::filesystem;

namespace ilk::cli {

Registry load_registry(const std::vector<std::string>& plugin_dirs) {
    Registry registry;
    std::vector<fs::path> dirs(plugin_dirs.begin(), plugin_dirs.end());
    if (dirs.empty()) dirs = Registry::default_dirs();
    registry.load_dirs(dirs);
    return registry;
}

bool write_file(const fs::path& file, const std::string& text, std::string& error) {
    const fs::path tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp);
        out << text;
        if (!out.flush()) {
            error = fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno));
            return false;
        }
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) {
        fs::remove(tmp, ec);
        error = fmt::format("cannot write {}: {}", file.string(), ec.message());
        return false;
    }
    return true;
}

int emit(const char* who, const std::string& text, const std::string& output, int rc) {
    if (output.empty()) {
        std::cout << text;
        return rc;
    }
    if (std::string error; !write_file(output, text, error)) {
        std::cerr << who << ": " << error << "; the report follows on standard output instead\n";
        std::cout << text;
        return kExitFailed;
    }
    return rc;
}

fs::path tmpdir() {
    const char* tmpdir = std::getenv("TMPDIR");
    return tmpdir && *tmpdir ? tmpdir : "/tmp";
}

bool check_target_specs(const char* who, const std::vector<std::string>& specs, const Registry& registry) {
    for (const std::string& spec : specs) {
        if (names_a_directory(spec)) {
            if (std::string why = check_target_dir(spec); !why.empty()) {
                std::cerr << who << ": " << why << "\n";
                return false;
            }
        } else if (!find_target_kind(spec, &registry)) {
            std::cerr << fmt::format("{}: {} (or name a directory, e.g. ./{})\n", who, unknown_target_message(spec, &registry), spec);
            return false;
        }
    }
    return true;
}

bool check_network_mount_args(const char* who, const std::vector<std::string>& nfs, const std::string& guest, const Registry& registry) {
    for (const std::string& n : nfs) {
        if (n == "all" || registry.find_network_mount(n)) continue;
        std::vector<std::string> names;
        for (const PluginNetworkMount& m : registry.network_mounts()) names.emplace_back(m.desc->name);
        const std::string guess = closest_match(n, names);
        std::cerr << fmt::format("{}: --nfs {}: no network mount of that name{}; known: {} (plugin nfs-mounts), or all\n", who, n,
                                 guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess),
                                 names.empty() ? "none: is the nfs-mounts plugin loaded?" : fmt::format("{}", fmt::join(names, ", ")));
        return false;
    }
    if (!nfs.empty() && guest.empty()) {
        std::cerr << who << ": --nfs needs --guest IMAGE: the NFS server and its two clients are guests of that image "
                            "(make one with ci/guest/image.sh 6.1 --ilk BUILD_DIR)\n";
        return false;
    }
    return true;
}

std::vector<const NetworkMountDescriptor*> chosen_network_mounts(const std::vector<std::string>& nfs, const Registry& registry) {
    std::vector<const NetworkMountDescriptor*> out;
    const bool all = std::find(nfs.begin(), nfs.end(), "all") != nfs.end();
    for (const PluginNetworkMount& m : registry.network_mounts())
        if (all || std::find(nfs.begin(), nfs.end(), m.desc->name) != nfs.end()) out.push_back(m.desc);
    return out;
}

std::optional<double> parse_duration_ms(const std::string& text) {
    std::size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const std::string unit = text.substr(used);
    double scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m" || unit == "min") scale = 60000;
    if (scale == 0 || !(value > 0) || value > 1e6) return std::nullopt;
    return value * scale;
}

CLI::Validator duration_validator() {
    return CLI::Validator(
        [](std::string& text) {
            return parse_duration_ms(text) ? std::string() : fmt::format("'{}' is not a duration: write it as 2s, 500ms or 1m", text);
        },
        "DURATION");
}

PlatformProfile pick_profile(const std::string& name) {
    const auto dirs = profile_dirs();
    return name.empty() ? profile_for_os(host_info_os(), dirs) : find_profile(name, dirs);
}

fs::path make_report_dir(const std::string& wanted) {
    std::error_code ec;
    fs::create_directories(wanted, ec);
    if (!ec && access(wanted.c_str(), W_OK | X_OK) == 0) return wanted;
    std::string tmpl = (tmpdir() / "ilk-report-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error(fmt::format("cannot create report directory {} nor one in {}", wanted, tmpdir().string()));
    std::cerr << fmt::format("ilk: cannot write the report directory {}: {}; the report goes to {} instead\n", wanted,
                             ec ? ec.message() : std::strerror(errno), tmpl);
    return tmpl;
}

}  // namespace ilk::cli
