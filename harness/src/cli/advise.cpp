// ilk advise: ilk run on one directory, then the strategy to use there.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "advice.h"
#include "cli/cli.h"

namespace ilk::cli {

CLI::App* add_advise_command(CLI::App& app, AdviseArgs& a) {
    CLI::App* advise = app.add_subcommand("advise", "Recommend the strategy to use for a real server's data directory");
    advise->add_option("dir", a.dir, "The directory where the server would keep its data directory (its parent)")->required();
    advise->add_option("--strategy", a.run.strategies, "Consider only this strategy; repeatable");
    advise->add_option("--scenario", a.run.scenarios,
                       "Judge only under this scenario (the situations your deployment can meet); repeatable. Default: all");
    advise->add_option("--report-dir", a.run.report_dir, "Where the report of the run behind the advice goes");
    advise->add_flag("--no-color", a.run.no_color, "No colours on a terminal");
    advise->add_flag("-q,--quiet", a.run.quiet, "No progress");
    return advise;
}

int cmd_advise(const AdviseArgs& a, const std::vector<std::string>& plugin_dirs) {
    RunArgs run = a.run;
    run.targets = {a.dir};
    std::optional<SavedRun> saved = run_and_save(run, plugin_dirs);
    if (!saved) return kExitBadInput;
    int rc = saved->rc;
    const ilk::MatrixReport& report = saved->report;
    if (report.targets.empty()) return rc == kExitOk ? kExitFailed : rc;
    const bool color = !run.no_color && run.output.empty() && isatty(1);
    const ilk::Advice advice = ilk::advise(report.targets.front(), saved->strategy_names);
    std::cout << ilk::advice_text(report.targets.front(), advice, color);
    std::cout << fmt::format("\nthe cells behind this advice: {}\n", (saved->report_dir / "report.html").string());
    if (rc == kExitOk && advice.recommended.empty()) rc = kExitNoneSafe;
    return rc;
}

}  // namespace ilk::cli
