// Start a helper program of the kit's (the zygote, an agent) with one socket
// as its descriptor 3: the one place the harness forks and execs such a child.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ilk {

class Journal;

struct ExecChildOptions {
    bool search_path = false;      // execvp: argv[0] may be a bare name ("unshare")
    bool die_with_parent = false;  // PR_SET_PDEATHSIG SIGKILL: never outlives the forking thread
    std::vector<std::string> env;  // "NAME=value" set in the child's environment (replacing NAME), the rest inherited
    std::string output;            // non-empty: stdin from /dev/null, stdout and stderr to this file (created 0600, truncated)
};

// Fork; in the child, `channel` becomes fd 3 (none when negative), every
// descriptor above it is closed, and argv is executed (exit 127 when it cannot be). The child's PID
// and start time are journaled as a "proc" entry when `journal` is given, so a
// crashed run's next clean stops it. Throws std::runtime_error when fork fails.
pid_t exec_child(const std::vector<std::string>& argv, int channel, const Journal* journal, const ExecChildOptions& options = {});

}  // namespace ilk
