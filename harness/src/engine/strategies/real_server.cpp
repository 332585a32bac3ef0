// server: a real server (servers/*.toml) as the contender. The contender
// waits at one gate, then becomes the server's start command (exec), already
// running as the server's own user, so the contender's process is the
// server. It speaks no protocol: the harness asks it with its own client
// whether it accepts a session (running), sees it exit (refused: its log
// lines are the evidence), and opens the session whose backend outlives it.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/real_server.h"
#include "engine/server.h"

namespace ilk {

StartResult start_real_server(Server& s) {
    const ServerSpec& spec = *s.spec().server;
    std::vector<std::string> args;
    for (const std::string& a : spec.start) args.push_back(expand(a, spec, s.datadir()));
    s.gate("exec " + spec.name);
    // Its log is the evidence of a refusal; it lives next to its socket, not in the data directory.
    const int out = ::open(spec.place.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0 || ::chdir(s.datadir().c_str()) != 0) return s.refuse("cannot prepare to run " + args.front() + ": " + std::strerror(errno));
    s.announce_exec(args);
    const std::vector<std::string> env = server_environment(spec, spec.place.socket_dir);
    become_program(args, out, false, &env);
}

}  // namespace ilk
