// command: a real program as the server (a real postmaster, util-linux
// flock(1) holding a lifetime lock, ...). The contender waits at one gate,
// then becomes the program (exec), so the contender's process is the server.
// From then on nothing is reported by the program: the harness observes its
// state from outside — running once it has lived settle_ms (and ready_file
// exists), refused when it exits — and counts all its children as backends.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/server.h"
#include "engine/zygote.h"

namespace ilk {

StartResult start_command(Server& s) {
    std::vector<std::string> args = s.spec().command;
    for (std::string& a : args)
        for (size_t at; (at = a.find("{datadir}")) != std::string::npos;) a.replace(at, 9, s.datadir());
    s.gate("exec " + args.front());
    // Its output is the evidence of a refusal; the harness reads the last line.
    const std::string log = s.path(kCommandLog);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || ::chdir(s.datadir().c_str()) != 0) return s.refuse("cannot prepare to run " + args.front());
    s.announce_exec(args);
    become_program(args, out, true);
}

void become_program(std::vector<std::string> args, int out, bool search_path, const std::vector<std::string>* env) {
    dup2(out, 1);
    dup2(out, 2);
    close_range(3, ~0U, 0);  // the channel and the lifeline too: the program knows nothing of the kit
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> vars;
    if (env) {
        for (const std::string& v : *env) vars.push_back(const_cast<char*>(v.c_str()));
        vars.push_back(nullptr);
    }
    char** envp = env ? vars.data() : environ;
    if (search_path) execvpe(argv[0], argv.data(), envp);
    else execve(argv[0], argv.data(), envp);
    const std::string line = "exec " + args.front() + " failed: " + std::strerror(errno) + "\n";
    (void)!::write(2, line.data(), line.size());
    _exit(127);
}

}  // namespace ilk
