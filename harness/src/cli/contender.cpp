// ilk contender: internal, the role a contender process (or the zygote that
// forks them) plays, started by the harness itself; no help entry.
#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "engine/server.h"
#include "engine/zygote.h"

namespace ilk::cli {

CLI::App* add_contender_command(CLI::App& app, ContenderArgs& a) {
    CLI::App* contender = app.add_subcommand("contender", "")->group("");  // no help, manual or completion entry
    contender->add_option("--fd", a.fd)->required();
    contender->add_flag("--zygote", a.zygote);
    contender->add_option("--parent", a.parent);
    return contender;
}

int cmd_contender(const ContenderArgs& a) {
    return a.zygote ? ilk::zygote_main(a.fd, a.parent) : ilk::contender_main(a.fd);
}

}  // namespace ilk::cli
