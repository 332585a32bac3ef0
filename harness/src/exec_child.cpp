#include "exec_child.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "journal.h"  // process_start_time

namespace ilk {

pid_t exec_child(const std::vector<std::string>& argv, int channel, const Journal* journal, const ExecChildOptions& options) {
    if (argv.empty()) throw std::runtime_error("exec_child: no program");
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // The environment is built before the fork: the child only execs.
    std::vector<std::string> keep;
    for (char** e = environ; *e; ++e) {
        const std::string_view var(*e);
        const bool replaced = std::any_of(options.env.begin(), options.env.end(), [&](const std::string& v) {
            const size_t eq = v.find('=');
            return var.substr(0, var.find('=')) == std::string_view(v).substr(0, eq);
        });
        if (!replaced) keep.emplace_back(var);
    }
    keep.insert(keep.end(), options.env.begin(), options.env.end());
    std::vector<char*> envp;
    for (std::string& v : keep) envp.push_back(v.data());
    envp.push_back(nullptr);
    int output_fd = -1;
    if (!options.output.empty()) {
        output_fd = open(options.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (output_fd < 0) throw std::runtime_error(fmt::format("cannot write {}: {}", options.output, std::strerror(errno)));
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid > 0 && output_fd >= 0) close(output_fd);
    if (pid < 0) {
        const int err = errno;
        if (output_fd >= 0) close(output_fd);
        throw std::runtime_error(fmt::format("fork: {}", std::strerror(err)));
    }
    if (pid == 0) {
        if (options.die_with_parent) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(127);  // the parent died before the line above
        }
        if (output_fd >= 0) {
            const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (null < 0 || dup2(null, 0) != 0 || dup2(output_fd, 1) != 1 || dup2(output_fd, 2) != 2) _exit(127);
        }
        if (channel >= 0) {
            if (channel != 3 && dup2(channel, 3) != 3) _exit(127);  // dup2 clears close-on-exec on the copy
            if (channel == 3) fcntl(3, F_SETFD, 0);
        }
        close_range(channel >= 0 ? 4 : 3, ~0U, 0);
        if (options.search_path) execvpe(args[0], args.data(), envp.data());
        else execve(args[0], args.data(), envp.data());
        _exit(127);
    }
    if (journal) journal->record("proc", fmt::format("{} {}", pid, process_start_time(pid)));
    return pid;
}

}  // namespace ilk
