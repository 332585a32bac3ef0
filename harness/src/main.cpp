// ilk: the Interlock Kit command line. Each subcommand is a file of cli/;
// this builds the app from them, parses and dispatches.
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/cli.h"

namespace cli = ilk::cli;

namespace ilk {
extern const char* const kCommit;  // the generated commit.cpp (cmake/IlkCommit.cmake)
}

int main(int argc, char** argv) {
    CLI::App app{"ilk — Interlock Kit: which data-directory startup interlock is safe on this platform"};
    app.require_subcommand(1);
    const std::string version = std::string(ILK_VERSION) + " (commit " + ilk::kCommit + ")";
    app.set_version_flag("--version", version);
    std::vector<std::string> plugin_dirs;
    app.add_option("--plugin-dir", plugin_dirs, "Directory of plugins (ilk-*.so); repeatable. Default: ILK_PLUGIN_PATH, else beside the binary")
        ->check(CLI::ExistingDirectory);

    // In this order in --help.
    cli::ProbeArgs pa;
    CLI::App* probe = cli::add_probe_command(app, pa);
    cli::ListArgs la;
    CLI::App* list = cli::add_list_command(app, la);
    CLI::App* clean = cli::add_clean_command(app);
    cli::RunArgs ra;
    CLI::App* run = cli::add_run_command(app, ra);
    cli::MergeArgs ma;
    CLI::App* merge = cli::add_merge_command(app, ma);
    cli::AdviseArgs aa;
    CLI::App* advise = cli::add_advise_command(app, aa);
    cli::ReplayArgs rpa;
    CLI::App* replay = cli::add_replay_command(app, rpa);
    cli::ContenderArgs ca;
    CLI::App* contender = cli::add_contender_command(app, ca);
    cli::AgentArgs ga;
    CLI::App* agent = cli::add_agent_command(app, ga);

    // Hidden: the manual page and the bash completion, written from the
    // definitions above (the package build runs these).
    app.add_option_function<std::string>(
           "--generate",
           [&](const std::string& what) {
               if (what == "man") cli::write_man_page(app, version, std::cout);
               else cli::write_bash_completion(app, std::cout);
               throw CLI::Success();
           },
           "Write the manual page or the bash completion script to standard output")
        ->check(CLI::IsMember({"man", "bash-completion"}))
        ->group("");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? cli::kExitOk : cli::kExitBadInput;
    }
    try {
        if (probe->parsed()) return cli::cmd_probe(pa, plugin_dirs);
        if (list->parsed()) return cli::cmd_list(la, plugin_dirs);
        if (clean->parsed()) return cli::cmd_clean(plugin_dirs);
        if (run->parsed()) return cli::cmd_run(ra, plugin_dirs);
        if (merge->parsed()) return cli::cmd_merge(ma);
        if (advise->parsed()) return cli::cmd_advise(aa, plugin_dirs);
        if (replay->parsed()) return cli::cmd_replay(rpa, plugin_dirs);
        if (agent->parsed()) return cli::cmd_agent(ga, plugin_dirs);
        if (contender->parsed()) return cli::cmd_contender(ca);
    } catch (const std::exception& e) {
        std::cerr << "ilk: " << e.what() << "\n";
        return cli::kExitFailed;
    }
    return cli::kExitBadInput;
}
