// ilk clean: undo the journals of dead runs.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/cli.h"
#include "journal.h"

namespace ilk::cli {

CLI::App* add_clean_command(CLI::App& app) {
    return app.add_subcommand("clean", "Remove what crashed earlier runs left behind (from their journals)");
}

// Undo the journals of dead runs and say honestly what happened: what was
// removed, what is left and why, which journals are kept for a later clean.
int cmd_clean(const std::vector<std::string>& plugin_dirs) {
    const ilk::Registry registry = load_registry(plugin_dirs);
    const std::string dir = ilk::Journal::state_dir().string();
    ilk::CleanTally tally;
    std::vector<std::string> done;
    try {
        done = ilk::clean_stale_journals(registry, &tally);
    } catch (const ilk::UnsafeStateDir& e) {
        std::cerr << "ilk clean: " << e.what() << "\n";
        return kExitFailed;
    }
    for (const std::string& line : done) std::cout << line << "\n";
    std::cout << fmt::format("{} leftover resource(s) of earlier runs removed (journals in {})\n", tally.undone, dir);
    if (tally.left > 0) std::cout << fmt::format("{} resource(s) not removed: see the lines above for why\n", tally.left);
    if (tally.never_made > 0)
        std::cout << fmt::format("{} journal entr{} of a form the kit never writes left alone\n", tally.never_made,
                                 tally.never_made == 1 ? "y" : "ies");
    if (!tally.kept.empty())
        std::cout << fmt::format("{} journal(s) kept for a later ilk clean: {}\n", tally.kept.size(), fmt::join(tally.kept, ", "));
    if (tally.live > 0) std::cout << fmt::format("{} journal(s) of runs still going left alone\n", tally.live);
    rmdir(dir.c_str());  // the state directory itself, if no run is using it
    return kExitOk;
}

}  // namespace ilk::cli
