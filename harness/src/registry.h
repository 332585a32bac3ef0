// The plugin registry: finds plugin libraries, vets each one in a sandboxed
// child (a crash at load costs the child), loads the good ones and keeps them
// loaded for the life of the process (no descriptor outlives its library).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include "ilk/plugin.h"

namespace ilk {

struct Primitive {
    const PrimitiveDescriptor* desc;
    std::string plugin;  // name of the plugin that provides it
    std::filesystem::path library;
};

// A target kind a plugin provides (API version 2).
struct PluginTargetKind {
    const TargetKindDescriptor* desc;
    std::string plugin;
    std::filesystem::path library;
};

// A network mount a plugin provides (API version 3).
struct PluginNetworkMount {
    const NetworkMountDescriptor* desc;
    std::string plugin;
    std::filesystem::path library;
};

struct LoadFailure {
    std::filesystem::path library;
    std::string cause;  // names what is wrong and the likely fix
};

class Registry {
public:
    // Plugin directories in order: ILK_PLUGIN_PATH (colon list) if set, else the
    // one beside the binary (<exe>/../<libdir>/ilk/plugins). --plugin-dir wins over both.
    static std::vector<std::filesystem::path> default_dirs();

    // Scan dirs for *.so files and load every good plugin. Never throws for a
    // bad plugin: it lands in failures().
    void load_dirs(const std::vector<std::filesystem::path>& dirs);
    void load_file(const std::filesystem::path& library);

    const std::vector<Primitive>& primitives() const { return primitives_; }
    const std::vector<LoadFailure>& failures() const { return failures_; }
    const Primitive* find(std::string_view name) const;
    std::vector<const Primitive*> of_kind(PrimitiveKind kind) const;
    const std::vector<PluginTargetKind>& target_kinds() const { return target_kinds_; }
    const PluginTargetKind* find_target_kind(std::string_view name) const;
    const std::vector<PluginNetworkMount>& network_mounts() const { return network_mounts_; }
    const PluginNetworkMount* find_network_mount(std::string_view name) const;

    struct Plugin {
        std::filesystem::path library;
        std::string name, version;
        std::vector<std::string> primitive_names;
        std::vector<std::string> target_kind_names;
        std::vector<std::string> network_mount_names;
    };
    const std::vector<Plugin>& plugins() const { return plugins_; }

private:
    std::vector<std::unique_ptr<boost::dll::shared_library>> libraries_;
    std::vector<Primitive> primitives_;
    std::vector<PluginTargetKind> target_kinds_;
    std::vector<PluginNetworkMount> network_mounts_;
    std::vector<Plugin> plugins_;
    std::vector<LoadFailure> failures_;
};

// Check a descriptor's shape; empty if fine, else what is wrong.
std::string validate_descriptor(const PluginDescriptor* d);
// The target kinds a descriptor holds: none before API version 2.
std::size_t target_kind_count(const PluginDescriptor& d);
// The network mounts a descriptor holds: none before API version 3.
std::size_t network_mount_count(const PluginDescriptor& d);

}  // namespace ilk
