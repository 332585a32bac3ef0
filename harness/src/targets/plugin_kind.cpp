// Target kinds from plugins (API version 2): the SDK's TargetKindDescriptor
// as a TargetKind. Set-up runs in a sandboxed child with a timeout, so a
// plugin that crashes or hangs costs its target, not the run; what it says it
// made is data, checked before it is used: the directory must be a real
// directory inside the run's scratch directory, the info a JSON object.
#include "targets/plugin_kind.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "journal.h"
#include "registry.h"
#include "sandbox.h"
#include "target.h"

namespace ilk {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// ILK_TARGET_SETUP_TIMEOUT_MS, else two minutes (a mkfs on a slow disk).
std::chrono::milliseconds setup_timeout() {
    const char* env = std::getenv("ILK_TARGET_SETUP_TIMEOUT_MS");
    const long ms = env ? std::strtol(env, nullptr, 10) : 0;
    return std::chrono::milliseconds(ms > 0 ? ms : 120000);
}

// The bytes up to the first NUL, at most n of them.
std::string bounded(const char* s, size_t n) {
    size_t len = 0;
    while (len < n && s[len]) ++len;
    return std::string(s, len);
}

void setup_from_plugin(const PluginTargetKind& p, const fs::path& base, const Journal& journal, PreparedTarget& t) {
    const std::string base_s = base.string();
    const ProbeContext ctx{base_s.c_str(), base_s.c_str(), geteuid() == 0, Journal::record_for_plugin, const_cast<Journal*>(&journal)};
    const std::string who = fmt::format("plugin {} (target kind '{}')", p.plugin, p.desc->name);
    const SandboxResult r = run_sandboxed(
        [&] {
            TargetSetup out{};
            const OpResult res = p.desc->setup(&ctx, &out);
            return json{{"status", static_cast<int>(res.status)},
                        {"message", bounded(res.message, sizeof res.message)},
                        {"dir", bounded(out.dir, sizeof out.dir)},
                        {"info", bounded(out.info, sizeof out.info)}}
                .dump(-1, ' ', false, json::error_handler_t::replace);
        },
        setup_timeout());
    if (!r.completed)
        throw std::runtime_error(r.timed_out ? fmt::format("{}: setup() hung: no answer within {} ms (ILK_TARGET_SETUP_TIMEOUT_MS)", who,
                                                           setup_timeout().count())
                                             : fmt::format("{}: setup() {}", who, r.failure()));
    const json answer = json::parse(r.payload, nullptr, false);
    if (!answer.is_object()) throw std::runtime_error(fmt::format("{}: setup() gave no answer", who));
    if (answer.value("status", -1) != static_cast<int>(OpStatus::ok)) {
        const std::string message = answer.value("message", "");
        throw std::runtime_error(fmt::format("{}: {}", who, message.empty() ? "setup() failed and gave no reason" : message));
    }
    const fs::path dir = answer.value("dir", "");
    std::error_code ec;
    const fs::path real_base = fs::canonical(base, ec);
    const fs::path real_dir = dir.is_absolute() ? fs::canonical(dir, ec) : fs::path();
    const auto [b, d] = std::mismatch(real_base.begin(), real_base.end(), real_dir.begin(), real_dir.end());
    if (real_dir.empty() || real_base.empty() || b != real_base.end() || d == real_dir.end() || !fs::is_directory(real_dir, ec))
        throw std::runtime_error(fmt::format("{}: setup() named '{}' as the target's directory, which is not a directory inside "
                                             "the run's scratch directory {}: refused (make it under ProbeContext::scratch_dir)",
                                             who, dir.string(), base.string()));
    t.dir = real_dir;
    if (const std::string info = answer.value("info", ""); !info.empty()) {
        const json extra = json::parse(info, nullptr, false);
        if (!extra.is_object())
            throw std::runtime_error(fmt::format("{}: setup()'s info is not a JSON object: {}", who, info.substr(0, 80)));
        for (const auto& [key, value] : extra.items()) t.info[key] = value;
    }
}

}  // namespace

TargetKind plugin_target_kind(const PluginTargetKind& p) {
    TargetKind k;
    k.name = p.desc->name;
    k.summary = p.desc->summary ? p.desc->summary : "";
    k.needs_root = (p.desc->flags & kTargetNeedsRoot) != 0;
    k.segments_only = (p.desc->flags & kTargetSegmentsOnly) != 0;
    for (size_t i = 0; i < p.desc->tool_count; ++i) k.tools.push_back({p.desc->tools[i].binary, p.desc->tools[i].package});
    k.setup = [&p](const fs::path& base, const Journal& journal, PreparedTarget& t) { setup_from_plugin(p, base, journal, t); };
    k.teardown = "what its set-up journaled (mounts, loop devices, sysctls), undone by the journal";
    k.plugin = p.plugin;
    return k;
}

}  // namespace ilk
