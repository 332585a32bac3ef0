#include "registry.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "sandbox.h"

namespace ilk {

namespace fs = std::filesystem;

namespace {

constexpr const char* kVersionSymbol = "ilk_plugin_api_version";
constexpr const char* kFactorySymbol = "ilk_plugin";

std::string check_kind(const PrimitiveDescriptor& p) {
    if (!p.name || !*p.name) return "a primitive has no name";
    if (!p.supported) return fmt::format("primitive '{}' has no supported() hook", p.name);
    if (p.kind == PrimitiveKind::lock) {
        if (!p.lock || !p.lock->acquire || !p.lock->release)
            return fmt::format("lock primitive '{}' lacks acquire/release hooks", p.name);
        if ((p.caps & kLockCanQuery) && !p.lock->query)
            return fmt::format("lock primitive '{}' claims kLockCanQuery but has no query hook", p.name);
        return {};
    }
    if (p.kind == PrimitiveKind::segment) {
        const SegmentOps* s = p.segment;
        if (!s || !s->create || !s->lookup || !s->attach || !s->detach || !s->remove || !s->reclaim)
            return fmt::format("segment primitive '{}' lacks one of create/lookup/attach/detach/remove/reclaim", p.name);
        if ((p.caps & kSegAttachCount) && !s->attach_count)
            return fmt::format("segment primitive '{}' claims kSegAttachCount but has no attach_count hook", p.name);
        return {};
    }
    return fmt::format("primitive '{}' has unknown kind {}", p.name, static_cast<unsigned>(p.kind));
}

// Load a library and fetch its descriptor; fills `why` on failure. Runs both
// in the vetting child and, once vetted, in the harness itself.
const PluginDescriptor* open_plugin(const fs::path& path, boost::dll::shared_library& lib, std::string& why) {
    boost::dll::fs::error_code ec;
    lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec) {
        why = fmt::format("cannot load: {} (not a shared object for this machine, or a library it needs is missing: "
                          "check with ldd)", ec.message());
        return nullptr;
    }
    if (!lib.has(kVersionSymbol)) {
        why = fmt::format("no '{}' symbol: not an ilk plugin, or built without ILK_PLUGIN(descriptor)", kVersionSymbol);
        return nullptr;
    }
    const std::uint32_t version = lib.get_alias<std::uint32_t()>(kVersionSymbol)();
    if (version < kPluginApiOldest || version > kPluginApiVersion) {
        why = fmt::format("plugin API version {} but this ilk speaks versions {} to {}: rebuild the plugin against this SDK",
                          version, kPluginApiOldest, kPluginApiVersion);
        return nullptr;
    }
    if (!lib.has(kFactorySymbol)) {
        why = fmt::format("no '{}' factory symbol: export the descriptor with ILK_PLUGIN(descriptor)", kFactorySymbol);
        return nullptr;
    }
    const PluginDescriptor* d = lib.get_alias<const PluginDescriptor*()>(kFactorySymbol)();
    why = validate_descriptor(d);
    return why.empty() ? d : nullptr;
}

fs::path exe_dir() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path(".") : exe.parent_path();
}

std::string check_target_kind(const TargetKindDescriptor& k) {
    if (!k.name || !*k.name) return "a target kind has no name";
    const std::string_view name(k.name);
    if (name.find('/') != std::string_view::npos || name == "." || name == "..")
        return fmt::format("target kind '{}' looks like a path: name it with letters, digits and '-'", name);
    if (!k.setup) return fmt::format("target kind '{}' has no setup() hook", name);
    if (k.flags >= kTargetFlagsSentinel) return fmt::format("target kind '{}' sets unknown flags {:#x}", name, k.flags);
    if (k.tool_count > 16 || (k.tool_count > 0 && !k.tools))
        return fmt::format("target kind '{}' declares {} tools (0 to 16 expected)", name, k.tool_count);
    for (size_t i = 0; i < k.tool_count; ++i)
        if (!k.tools[i].binary || !*k.tools[i].binary || !k.tools[i].package || !*k.tools[i].package)
            return fmt::format("target kind '{}': tool {} lacks a binary or a Debian package name", name, i);
    return {};
}

std::string check_network_mount(const NetworkMountDescriptor& m) {
    if (!m.name || !*m.name) return "a network mount has no name";
    const std::string_view name(m.name);
    if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-=") != std::string_view::npos ||
        name.front() == '.' || name.front() == '-')
        return fmt::format("network mount '{}': name it with letters, digits, '.', '_', '-' and '=' (it becomes a path in the guests)", name);
    static const std::vector<std::string_view> servers{"kernel-nfsd", "nfs-ganesha", "host-9p"};
    if (!m.server || std::find(servers.begin(), servers.end(), std::string_view(m.server)) == servers.end())
        return fmt::format("network mount '{}': server '{}' is not one this ilk can run (known: kernel-nfsd, nfs-ganesha, host-9p)", name,
                           m.server ? m.server : "");
    // Options go into exports(5) and onto mount's command line: no spaces, quotes, parentheses or shell.
    for (const char* o : {m.export_options, m.mount_options})
        if (!o || std::string_view(o).find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,=._-") !=
                      std::string_view::npos)
            return fmt::format("network mount '{}': options '{}' must be words, digits and , = . _ -", name, o ? o : "");
    if (!m.source || !*m.source) return fmt::format("network mount '{}' names no source for what its options mean", name);
    return {};
}

}  // namespace

std::size_t target_kind_count(const PluginDescriptor& d) { return d.api_version >= 2 ? d.target_kind_count : 0; }
std::size_t network_mount_count(const PluginDescriptor& d) { return d.api_version >= 3 ? d.network_mount_count : 0; }

std::string validate_descriptor(const PluginDescriptor* d) {
    if (!d) return "the factory returned no descriptor";
    if (d->api_version < kPluginApiOldest || d->api_version > kPluginApiVersion)
        return fmt::format("descriptor says API version {} but this ilk speaks versions {} to {}", d->api_version,
                           kPluginApiOldest, kPluginApiVersion);
    if (!d->name || !*d->name) return "the descriptor has no plugin name";
    const std::size_t kinds = target_kind_count(*d);
    if (kinds > 16 || (kinds > 0 && !d->target_kinds))
        return fmt::format("plugin '{}' declares {} target kinds (0 to 16 expected)", d->name, kinds);
    const std::size_t mounts = network_mount_count(*d);
    if (mounts > 32 || (mounts > 0 && !d->network_mounts))
        return fmt::format("plugin '{}' declares {} network mounts (0 to 32 expected)", d->name, mounts);
    if (d->primitive_count > 64 || (d->primitive_count == 0 && kinds == 0 && mounts == 0) || (d->primitive_count > 0 && !d->primitives))
        return fmt::format("plugin '{}' declares {} primitives (1 to 64 expected, or 0 with target kinds or network mounts)", d->name,
                           d->primitive_count);
    for (size_t i = 0; i < d->primitive_count; ++i)
        if (std::string why = check_kind(d->primitives[i]); !why.empty()) return why;
    for (size_t i = 0; i < kinds; ++i)
        if (std::string why = check_target_kind(d->target_kinds[i]); !why.empty()) return why;
    for (size_t i = 0; i < mounts; ++i)
        if (std::string why = check_network_mount(d->network_mounts[i]); !why.empty()) return why;
    return {};
}

std::vector<fs::path> Registry::default_dirs() {
    std::vector<fs::path> dirs;
    if (const char* env = std::getenv("ILK_PLUGIN_PATH"); env && *env) {
        std::string_view rest(env);
        while (!rest.empty()) {
            const size_t colon = rest.find(':');
            const std::string_view one = rest.substr(0, colon);
            if (!one.empty()) dirs.emplace_back(one);
            if (colon == std::string_view::npos) break;
            rest.remove_prefix(colon + 1);
        }
        return dirs;
    }
    dirs.push_back(exe_dir().parent_path() / ILK_PLUGIN_SUBDIR);
    return dirs;
}

void Registry::load_dirs(const std::vector<fs::path>& dirs) {
    for (const fs::path& dir : dirs) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            failures_.push_back({dir, "plugin directory does not exist: build the project, or point --plugin-dir / "
                                      "ILK_PLUGIN_PATH at the directory holding ilk-*.so"});
            continue;
        }
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.path().extension() == ".so") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& f : files) load_file(f);
    }
}

void Registry::load_file(const fs::path& library) {
    // Vet first in a child: a plugin that crashes or hangs while loading (a
    // static constructor, a bad dependency) must not take the harness down.
    const SandboxResult vet = run_sandboxed(
        [&] {
            boost::dll::shared_library lib;
            std::string why;
            open_plugin(library, lib, why);
            return why.empty() ? std::string("ok") : why;
        },
        std::chrono::milliseconds(5000));
    if (!vet.completed) {
        failures_.push_back({library, fmt::format("crashed while loading ({}): the plugin's load-time code is broken",
                                                  vet.failure())});
        return;
    }
    if (vet.payload != "ok") {
        failures_.push_back({library, vet.payload});
        return;
    }
    auto lib = std::make_unique<boost::dll::shared_library>();
    std::string why;
    const PluginDescriptor* d = open_plugin(library, *lib, why);
    if (!d) {
        failures_.push_back({library, why});
        return;
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < d->primitive_count; ++i) {
        const PrimitiveDescriptor& p = d->primitives[i];
        if (const Primitive* other = find(p.name); other || !seen.insert(p.name).second) {
            failures_.push_back({library, fmt::format("primitive '{}' is already provided by {}: remove one of the two",
                                                      p.name, other ? other->library.string() : library.string())});
            return;
        }
    }
    for (size_t i = 0; i < target_kind_count(*d); ++i) {
        const TargetKindDescriptor& k = d->target_kinds[i];
        if (const PluginTargetKind* other = find_target_kind(k.name); other || !seen.insert(std::string("target:") + k.name).second) {
            failures_.push_back({library, fmt::format("target kind '{}' is already provided by {}: remove one of the two",
                                                      k.name, other ? other->library.string() : library.string())});
            return;
        }
    }
    for (size_t i = 0; i < network_mount_count(*d); ++i) {
        const NetworkMountDescriptor& m = d->network_mounts[i];
        if (const PluginNetworkMount* other = find_network_mount(m.name); other || !seen.insert(std::string("mount:") + m.name).second) {
            failures_.push_back({library, fmt::format("network mount '{}' is already provided by {}: remove one of the two",
                                                      m.name, other ? other->library.string() : library.string())});
            return;
        }
    }
    Plugin plugin{library, d->name, d->version ? d->version : "", {}, {}, {}};
    for (size_t i = 0; i < d->primitive_count; ++i) {
        primitives_.push_back(Primitive{&d->primitives[i], d->name, library});
        plugin.primitive_names.emplace_back(d->primitives[i].name);
    }
    for (size_t i = 0; i < target_kind_count(*d); ++i) {
        target_kinds_.push_back(PluginTargetKind{&d->target_kinds[i], d->name, library});
        plugin.target_kind_names.emplace_back(d->target_kinds[i].name);
    }
    for (size_t i = 0; i < network_mount_count(*d); ++i) {
        network_mounts_.push_back(PluginNetworkMount{&d->network_mounts[i], d->name, library});
        plugin.network_mount_names.emplace_back(d->network_mounts[i].name);
    }
    plugins_.push_back(std::move(plugin));
    libraries_.push_back(std::move(lib));
}

const Primitive* Registry::find(std::string_view name) const {
    for (const Primitive& p : primitives_)
        if (name == p.desc->name) return &p;
    return nullptr;
}

const PluginTargetKind* Registry::find_target_kind(std::string_view name) const {
    for (const PluginTargetKind& k : target_kinds_)
        if (name == k.desc->name) return &k;
    return nullptr;
}

const PluginNetworkMount* Registry::find_network_mount(std::string_view name) const {
    for (const PluginNetworkMount& m : network_mounts_)
        if (name == m.desc->name) return &m;
    return nullptr;
}

std::vector<const Primitive*> Registry::of_kind(PrimitiveKind kind) const {
    std::vector<const Primitive*> out;
    for (const Primitive& p : primitives_)
        if (p.desc->kind == kind) out.push_back(&p);
    return out;
}

}  // namespace ilk
