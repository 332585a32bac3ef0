// ilk probe: measure how each primitive behaves on targets, compared with a
// platform profile.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/cli.h"
#include "interrupt.h"
#include "journal.h"
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
    return probe;
}

int cmd_probe(const ProbeArgs& a, const std::vector<std::string>& plugin_dirs) {
    const std::vector<std::string> specs = a.targets.empty() ? std::vector<std::string>{tmpdir().string()} : a.targets;
    ilk::Registry registry = load_registry(plugin_dirs);
    if (!check_target_specs("ilk probe", specs, registry)) return kExitBadInput;
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
        reports.push_back(std::move(report));
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
