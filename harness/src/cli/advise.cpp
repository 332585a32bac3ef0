// ilk advise: ilk run on one directory, then the strategy to use there.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "advice.h"
#include "cli/cli.h"
#include "hostinfo.h"

namespace ilk::cli {

CLI::App* add_advise_command(CLI::App& app, AdviseArgs& a) {
    CLI::App* advise = app.add_subcommand("advise", "Recommend the strategy to use for a real server's data directory");
    advise->add_option("dir", a.dir, "The directory where the server would keep its data directory (its parent)")->required();
    advise->add_option("--strategy", a.run.strategies, "Consider only this strategy; repeatable");
    advise->add_option("--scenario", a.run.scenarios,
                       "Judge only under this scenario (the situations your deployment can meet); repeatable. Default: all");
    advise->add_option("--skip-scenario", a.run.skip_scenarios,
                       "Leave out this scenario (a situation your deployment cannot meet: no containers, no NFS cleaner); repeatable");
    advise->add_option("--report-dir", a.run.report_dir, "Where the report of the run behind the advice goes");
    advise->add_flag("--no-color", a.run.no_color, "No colours on a terminal");
    advise->add_flag("-q,--quiet", a.run.quiet, "No progress");
    advise->add_option("--guest", a.run.guest,
                       "On NFS: also judge servers on two clients (the nfs-* scenarios) in an NFS lab of this guest image's guests, "
                       "on the lab's network mount with the same version and local_lock as DIR's mount");
    advise->add_option("--nfs", a.run.nfs, "With --guest: the lab's network mount to judge instead (ilk list targets)");
    advise->add_option("--guest-timeout", a.run.guest_timeout, "Seconds a guest may take to boot and answer (default 300)")->check(CLI::Range(10, 3600));
    return advise;
}

namespace {

// The lab's network mount for DIR's NFS mount: the same version and local_lock
// (kernel nfsd's). Empty after saying why.
std::string matching_network_mount(const std::string& dir, const std::vector<std::string>& plugin_dirs) {
    const nlohmann::json info = ilk::target_info(dir);
    const std::string fstype = info.value("fstype", ""), options = info.value("mount_options", "");
    if (fstype.rfind("nfs", 0) != 0) {
        std::cerr << fmt::format("ilk advise: {} is on {}, not NFS: --guest judges servers on two NFS clients; name the lab's "
                                 "network mount to judge with --nfs NAME (ilk list targets)\n", dir, fstype.empty() ? "?" : fstype);
        return {};
    }
    const ilk::NfsLocking want = ilk::nfs_locking(options);
    const ilk::Registry registry = load_registry(plugin_dirs);
    std::vector<std::string> names;
    for (const ilk::PluginNetworkMount& m : registry.network_mounts()) {
        if (std::string_view(m.desc->server) != "kernel-nfsd") continue;
        if (ilk::nfs_locking(m.desc->mount_options) == want) return m.desc->name;
        names.emplace_back(m.desc->name);
    }
    std::cerr << fmt::format("ilk advise: no network mount of the lab has vers={} and local_lock={} as {} does ({}); name one with "
                             "--nfs NAME: {}\n", want.vers, want.local_lock, dir, options, fmt::join(names, ", "));
    return {};
}

}  // namespace

int cmd_advise(const AdviseArgs& a, const std::vector<std::string>& plugin_dirs) {
    RunArgs run = a.run;
    run.targets = {a.dir};
    if (!run.guest.empty() && run.nfs.empty()) {
        const std::string mount = matching_network_mount(a.dir, plugin_dirs);
        if (mount.empty()) return kExitBadInput;
        run.nfs = {mount};
        if (!run.quiet) std::cerr << fmt::format("ilk advise: servers on two clients judged on the lab's {} mount\n", mount);
    }
    std::optional<SavedRun> saved = run_and_save(run, plugin_dirs);
    if (!saved) return kExitBadInput;
    int rc = saved->rc;
    const ilk::MatrixReport& report = saved->report;
    if (report.targets.empty()) return rc == kExitOk ? kExitFailed : rc;
    const bool color = !run.no_color && run.output.empty() && isatty(1);
    // With a lab: the directory's cells and, for each strategy, its cells on two clients.
    const ilk::TargetResult judged =
        report.targets.size() > 1 ? ilk::with_network_cells(report.targets.front(), report.targets.back()) : report.targets.front();
    const ilk::Advice advice = ilk::advise(judged, saved->strategy_names);
    std::cout << ilk::advice_text(judged, advice, color, run.skip_scenarios);
    std::cout << fmt::format("\nthe cells behind this advice: {}\n", (saved->report_dir / "report.html").string());
    if (rc == kExitOk && advice.recommended.empty()) rc = kExitNoneSafe;
    return rc;
}

}  // namespace ilk::cli
