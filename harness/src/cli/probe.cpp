// ilk probe: measure how each primitive behaves on targets, compared with a
// platform profile.
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/cli.h"
#include "host/guest.h"
#include "host/nfs.h"
#include "hostinfo.h"
#include "interrupt.h"
#include "journal.h"
#include "probe.h"
#include "probe_hosts.h"
#include "probe_target.h"
#include "report.h"
#include "target.h"

namespace ilk::cli {

CLI::App* add_probe_command(CLI::App& app, ProbeArgs& a) {
    CLI::App* probe = app.add_subcommand("probe", "Measure how each primitive behaves on a target directory");
    probe->add_option("--target", a.targets,
                      "Directory to probe in (a scratch subdirectory is made and removed), or a kit-made target (see ilk run); "
                      "repeatable. Default: $TMPDIR or /tmp");
    probe->add_option("--format", a.format, "Report format")->check(CLI::IsMember({"text", "json"}));
    probe->add_option("--output", a.output, "Write the report to FILE instead of standard output");
    probe->add_option("--platform", a.platform, "Compare with platforms/NAME.toml instead of the running OS's profile");
    probe->add_option("--primitive", a.primitives, "Probe only this primitive; repeatable");
    probe->add_flag("--fail-on-deviation", a.fail_on_deviation, "Exit 1 when an observation deviates from the profile");
    probe->add_flag("-v,--verbose", a.verbose, "Print each fact's evidence and every comparison");
    probe->add_flag("--no-color", a.no_color, "No colours on a terminal");
    probe->add_option("--guest", a.guest,
                      "Also boot this QEMU guest image (made by ci/guest/image.sh SERIES --ilk BUILD_DIR), share the target with it "
                      "over 9p and measure the facts across the two hosts (hosts.*): root, and QEMU, needed");
    probe->add_option("--nfs", a.nfs,
                      "Probe this network mount (ilk list targets; 'all' for every one): a server guest and two client guests of the "
                      "--guest image, linked by their own network, mount it at the same path; facts from client A and across the two "
                      "clients (clients.*); repeatable. Without --target, only the network mounts are probed");
    probe->add_option("--guest-timeout", a.guest_timeout, "Seconds a guest may take to boot and answer (default 300)")->check(CLI::Range(10, 3600));
    return probe;
}

namespace {

// The facts across this host and a guest that mounts the target over 9p
// (hosts.*): A here, B in the guest. A guest that does not come up leaves
// those facts unmeasured with the reason; the local probe stands.
void probe_with_guest(const ilk::Registry& registry, const ilk::Journal& journal, const ilk::PreparedTarget& t,
                      const std::string& image, ilk::ProbeReport& report) {
    std::vector<const ilk::Primitive*> locks, segments;
    for (const ilk::PrimitiveStatus& s : report.primitives) {
        if (!s.supported) continue;
        const ilk::Primitive* p = registry.find(s.name);
        if (p) (s.kind == "lock" ? locks : segments).push_back(p);
    }
    ilk::GuestOptions o;
    o.name = "guest";
    o.image = std::filesystem::absolute(image);
    o.shared = {std::filesystem::absolute(t.dir)};
    try {
        ilk::Guest guest = ilk::boot_guest(o, journal);
        report.target["guest"] = {{"name", o.name},
                                  {"image", o.image.string()},
                                  {"kernel", guest.agent->hello().value("kernel", "")},
                                  {"accel", guest.accel},
                                  {"shared_over", "9p (virtio, version 9p2000.L, cache=none)"}};
        ilk::Lab lab(registry, journal, t.dir);
        ilk::probe_across_hosts(lab, *guest.agent, locks, segments, report.facts);
    } catch (const std::exception& e) {
        report.target["guest"] = {{"image", o.image.string()}, {"error", e.what()}};
        std::cerr << "ilk probe: " << e.what() << "\n";
        for (const ilk::Primitive* p : locks)
            for (const char* f : {"excludes_other_host", "released_on_holder_kill"}) {
                const std::string id = fmt::format("hosts.locks.{}.{}", p->desc->name, f);
                report.facts[id] = ilk::unmeasured_fact(id, std::string("the guest did not come up: ") + e.what(), {});
            }
    }
}

// Every asked network mount, in one lab; a lab that does not come up leaves
// each of them a report that says why.
std::vector<ilk::ProbeReport> probe_network_mounts(const ilk::Registry& registry, const ilk::Journal& journal, const ProbeArgs& a,
                                                   const ilk::PlatformProfile& profile) {
    const std::vector<const ilk::NetworkMountDescriptor*> mounts = chosen_network_mounts(a.nfs, registry);
    std::vector<ilk::ProbeReport> reports;
    try {
        ilk::NfsLab lab(std::filesystem::absolute(a.guest), mounts, journal, std::chrono::seconds(a.guest_timeout));
        for (const ilk::NetworkMountDescriptor* m : mounts) {
            if (ilk::g_interrupted) break;
            reports.push_back(probe_network_mount(lab, m->name, a.primitives));
        }
        // Last, as it ends client A: its whole guest crashes while it holds a
        // lock of each kind on every mount. 30 s is three NFSv4 leases here.
        std::vector<ilk::CrashMount> crash;
        for (ilk::ProbeReport& r : reports) {
            if (r.target.contains("unsupported")) continue;
            ilk::CrashMount c{r.target.value("path", ""), {}, &r.facts};
            for (const ilk::PrimitiveStatus& s : r.primitives)
                if (s.supported && s.kind == "lock") c.locks.push_back(s.name);
            crash.push_back(std::move(c));
        }
        if (!ilk::g_interrupted) {
            try {
                ilk::probe_client_crash(lab.client(0), lab.client(1), crash, [&] { lab.client(0).crash(); }, std::chrono::seconds(30));
            } catch (const std::exception& e) {
                std::cerr << "ilk probe: the client crash could not be measured: " << e.what() << "\n";
            }
        }
    } catch (const std::exception& e) {
        std::cerr << "ilk probe: the NFS lab did not come up: " << e.what() << "\n";
        for (const ilk::NetworkMountDescriptor* m : mounts) {
            ilk::ProbeReport r;
            r.host = ilk::host_info();
            r.target = {{"name", m->name}, {"kind", "nfs"}, {"unsupported", std::string("the NFS lab did not come up: ") + e.what()}};
            reports.push_back(std::move(r));
        }
    }
    for (ilk::ProbeReport& r : reports)
        if (!profile.name.empty()) {
            r.profile = profile.name;
            r.profile_file = profile.file;
            r.comparisons = ilk::compare(profile, r.facts, r.target.value("name", ""));
        }
    return reports;
}

}  // namespace

int cmd_probe(const ProbeArgs& a, const std::vector<std::string>& plugin_dirs) {
    const std::vector<std::string> specs =
        a.targets.empty() && a.nfs.empty() ? std::vector<std::string>{tmpdir().string()} : a.targets;
    ilk::Registry registry = load_registry(plugin_dirs);
    if (!check_target_specs("ilk probe", specs, registry)) return kExitBadInput;
    if (!check_network_mount_args("ilk probe", a.nfs, a.guest, registry)) return kExitBadInput;
    // The profile first: a broken one must fail before anything is measured.
    ilk::PlatformProfile profile;
    try {
        profile = pick_profile(a.platform);
    } catch (const ilk::ProfileError& e) {
        std::cerr << e.what() << "\n";
        return kExitBadInput;
    }
    for (const std::string& p : a.primitives) {
        if (registry.find(p)) continue;
        std::vector<std::string> names;
        for (const auto& prim : registry.primitives()) names.emplace_back(prim.desc->name);
        const std::string guess = ilk::closest_match(p, names);
        std::cerr << fmt::format("ilk probe: no primitive named '{}'{}; loaded: {}\n", p,
                                 guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess), fmt::join(names, ", "));
        return kExitBadInput;
    }
    ilk::install_interrupt_handlers();
    std::vector<std::string> cleaned = ilk::clean_stale_journals(registry);
    ilk::Journal journal = ilk::Journal::begin(tmpdir());
    std::vector<ilk::ProbeReport> reports;
    for (const std::string& spec : specs) {
        if (ilk::g_interrupted) break;
        const ilk::PreparedTarget t = ilk::prepare_target(spec, journal, &registry);
        ilk::ProbeReport report = ilk::probe_target(registry, journal, t, t.dir, a.primitives, profile);
        report.target = t.info;
        report.target["name"] = spec;
        if (!t.unsupported.empty()) {
            report.target["unsupported"] = t.unsupported;
            std::cerr << "ilk probe: target " << spec << " not set up: " << t.unsupported << "\n";
        }
        report.cleaned = cleaned;
        if (!a.guest.empty() && t.unsupported.empty() && !ilk::g_interrupted) probe_with_guest(registry, journal, t, a.guest, report);
        reports.push_back(std::move(report));
    }
    if (!a.nfs.empty() && !ilk::g_interrupted)
        for (ilk::ProbeReport& r : probe_network_mounts(registry, journal, a, profile)) {
            r.cleaned = cleaned;
            reports.push_back(std::move(r));
        }
    for (const std::string& line : journal.finish(registry))
        if (line.rfind("could not", 0) == 0) std::cerr << "ilk probe: cleanup: " << line << "\n";
    std::string text;
    bool interrupted = ilk::g_interrupted;
    if (a.format == "json") {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& r : reports) all.push_back(ilk::probe_report_json(r));
        text = (all.size() == 1 ? all[0] : all).dump(2) + "\n";
    } else {
        for (const auto& r : reports) text += ilk::probe_report_text(r, {!a.no_color && a.output.empty() && isatty(1), a.verbose});
    }
    for (const auto& r : reports) interrupted |= r.interrupted;
    int rc = emit("ilk probe", text, a.output, interrupted ? kExitInterrupted : kExitOk);
    if (a.fail_on_deviation && rc == kExitOk)
        for (const auto& r : reports)
            for (const auto& c : r.comparisons)
                if (ilk::is_deviation(c.outcome)) rc = kExitFailed;
    return rc;
}

}  // namespace ilk::cli
