// ilk agent: be one host of a run, driven over one byte stream (host/agent_main).
#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "host/agent_main.h"

namespace ilk::cli {

CLI::App* add_agent_command(CLI::App& app, AgentArgs& a) {
    CLI::App* agent = app.add_subcommand("agent", "Be one host of a run: the harness drives it over one byte stream "
                                                  "(standard input, or --fd), e.g. from another namespace or a QEMU guest");
    agent->add_option("--fd", a.fd, "The stream's descriptor, read and written (default: 0)");
    return agent;
}

int cmd_agent(const AgentArgs& a, const std::vector<std::string>& plugin_dirs) {
    return ilk::agent_main(a.fd, load_registry(plugin_dirs));
}

}  // namespace ilk::cli
