#include "probe.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "hostinfo.h"
#include "sandbox.h"

namespace ilk {

Lab::Lab(const Registry& registry, const Journal& journal, std::filesystem::path workdir)
    : registry_(registry), journal_(journal), target_(std::move(workdir)),
      scratch_str_(journal.scratch().string()), target_str_(target_.string()) {}

ProbeContext Lab::context() const {
    return ProbeContext{target_str_.c_str(), scratch_str_.c_str(), geteuid() == 0, Journal::record_for_plugin,
                        const_cast<Journal*>(&journal_)};
}

std::string Lab::fresh_lower_file() {
    if (lower_dir_.empty()) return {};
    const std::filesystem::path f = lower_dir_ / fmt::format("copyup-{}", ++lower_used_);
    std::error_code ec;
    return std::filesystem::exists(f, ec) ? f.string() : std::string();
}

std::string Lab::fresh_file(const std::string& stem) {
    return (dir() / fmt::format("{}-{}", stem, ++counter_)).string();
}

std::int64_t Lab::fresh_key(const std::string& primitive, pid_t creator) {
    // 0x49 ('I') in the top byte, our pid and a counter below: unlikely to meet
    // anyone else's key, and a collision only makes create() report busy.
    const std::int64_t key = (0x49LL << 24) | ((static_cast<std::int64_t>(getpid()) & 0xffff) << 8) | (++counter_ & 0xff);
    journal_.record("segment", fmt::format("{} {} {}", primitive, key, creator));
    return key;
}

Fact measured_fact(std::string id, nlohmann::json value, nlohmann::json evidence) {
    Fact f;
    f.id = std::move(id);
    f.measured = true;
    f.value = std::move(value);
    f.evidence = std::move(evidence);
    return f;
}

Fact unmeasured_fact(std::string id, std::string reason, nlohmann::json evidence) {
    Fact f;
    f.id = std::move(id);
    f.reason = std::move(reason);
    f.evidence = std::move(evidence);
    return f;
}

Fact timed(const std::string& id, const std::function<Fact()>& fn) {
    throw_if_interrupted();
    const auto t0 = std::chrono::steady_clock::now();
    Fact f;
    try {
        f = fn();
    } catch (const std::exception& e) {
        f = unmeasured_fact(id, e.what());
    }
    f.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return f;
}

std::string errno_name(int err) {
    if (err == 0) return "none";
    const char* name = strerrorname_np(err);
    return name ? name : std::to_string(err);
}

namespace {

// How long a plugin's prepare()/supported() may take before it counts as hung.
std::chrono::milliseconds hook_timeout() {
    const char* env = std::getenv("ILK_HOOK_TIMEOUT_MS");
    const long ms = env ? std::strtol(env, nullptr, 10) : 0;
    return std::chrono::milliseconds(ms > 0 ? ms : 10000);
}

}  // namespace

// Each plugin hook runs in a sandboxed child: a crash or hang there marks the
// primitive unsupported with the cause, and the probe goes on.
PrimitiveStatus check_primitive(const Lab& lab, const Primitive& p) {
    PrimitiveStatus s{p.desc->name, p.plugin, p.desc->kind == PrimitiveKind::lock ? "lock" : "segment", false, false, {}};
    const ProbeContext ctx = lab.context();
    auto call = [&](OpResult (*hook)(const ProbeContext*), const char* what) -> bool {
        const SandboxResult r = run_sandboxed(
            [&] {
                const OpResult res = hook(&ctx);
                return fmt::format("{}\n{}", static_cast<int>(res.status), res.message);
            },
            hook_timeout());
        if (!r.completed) {
            s.reason = r.timed_out ? fmt::format("plugin {} {} of '{}' hung: no answer within {} ms (ILK_HOOK_TIMEOUT_MS)",
                                                 p.plugin, what, s.name, hook_timeout().count())
                                   : fmt::format("plugin {} {} of '{}' {}", p.plugin, what, s.name, r.failure());
            return false;
        }
        const size_t nl = r.payload.find('\n');
        const int status = std::atoi(r.payload.substr(0, nl).c_str());
        if (status != static_cast<int>(OpStatus::ok)) {
            s.reason = nl == std::string::npos ? "no reason given" : r.payload.substr(nl + 1);
            return false;
        }
        return true;
    };
    if (p.desc->prepare && !call(p.desc->prepare, "prepare()")) return s;
    s.tried = true;
    s.supported = call(p.desc->supported, "supported()");
    return s;
}

ProbeReport run_probe(const Registry& registry, const Journal& journal, const ProbeOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    prctl(PR_SET_CHILD_SUBREAPER, 1);  // orphaned actor children come back to us to be reaped
    ProbeReport report;
    report.host = host_info();
    report.target = target_info(options.workdir);
    for (const LoadFailure& f : registry.failures()) report.load_failures.push_back({f.library, f.cause});
    Lab lab(registry, journal, options.workdir);
    lab.set_lower_dir(options.lower_dir);

    std::vector<const Primitive*> locks, segments;
    for (const Primitive& p : registry.primitives()) {
        if (!options.primitives.empty() &&
            std::find(options.primitives.begin(), options.primitives.end(), p.desc->name) == options.primitives.end())
            continue;
        if (options.segments_only && p.desc->kind == PrimitiveKind::lock) continue;
        PrimitiveStatus s = check_primitive(lab, p);
        const std::string subject = p.desc->kind == PrimitiveKind::lock ? "locks" : "segments";
        const std::string id = fmt::format("{}.{}.supported", subject, s.name);
        report.facts[id] = s.supported ? measured_fact(id, true)
                           : s.tried   ? measured_fact(id, false, {{"reason", s.reason}})
                                       : unmeasured_fact(id, fmt::format("could not set up {}: {}", s.name, s.reason));
        if (s.supported) {
            (p.desc->kind == PrimitiveKind::lock ? locks : segments).push_back(&p);
        } else {
            // Every other fact of an unusable primitive says why it was not measured.
            const auto& names = p.desc->kind == PrimitiveKind::lock ? lock_fact_names() : segment_fact_names();
            for (const std::string& name : names) {
                if (name == "supported" || name == "conflicts_with") continue;
                if (name == "excludes_across_copy_up" && options.lower_dir.empty()) continue;  // overlayfs only
                const std::string fid = fmt::format("{}.{}.{}", subject, s.name, name);
                report.facts[fid] = unmeasured_fact(fid, fmt::format("{} is not supported here: {}", s.name, s.reason));
            }
        }
        report.primitives.push_back(std::move(s));
    }
    try {
        probe_locks(lab, locks, report.facts);
        probe_segments(lab, segments, report.facts);
        if (!options.segments_only) probe_process(lab, report.facts);
    } catch (const Interrupted&) {
        report.interrupted = true;
    }
    report.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

}  // namespace ilk
