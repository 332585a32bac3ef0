#include "engine/zygote.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <vector>

#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include "engine/server.h"
#include "exec_child.h"
#include "fdpass.h"
#include "journal.h"
#include "pid_choice.h"

namespace ilk {

using json = nlohmann::json;

namespace {

// The lifeline: a pipe whose write end only the zygote holds. Contenders and
// their backends keep the read end; it reports hang-up when the zygote is
// gone (it dies with its harness), so a backend that must outlive its crashed
// server still never outlives the run, journaled or not.
int g_lifeline[2] = {-1, -1};

// The plugin libraries the zygote loaded, by path: inherited by every contender.
std::map<std::string, std::unique_ptr<boost::dll::shared_library>> g_preloaded;

struct SpawnRequest {
    std::int32_t free_running, unshare_flags;
    std::uint32_t uid;
    std::int32_t want_pid, want_parent_pid;
};
struct SpawnReply {
    std::int32_t pid, parent;  // parent: -1 when the zygote itself is the parent
    std::int32_t err;
};

// In the new contender: become it. Never returns.
[[noreturn]] void run_contender(int channel_fd, const SpawnRequest& r) {
    if (r.uid && (setgroups(0, nullptr) != 0 || setresgid(r.uid, r.uid, r.uid) != 0 || setresuid(r.uid, r.uid, r.uid) != 0)) _exit(5);
    signal(SIGCHLD, SIG_DFL);
    _exit(contender_main(channel_fd));
}

SpawnReply spawn_one(int channel_fd, const SpawnRequest& r, int control) {
    const bool direct = r.unshare_flags == 0 && r.want_parent_pid == 0;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return {-1, -1, errno};
    const pid_t first = fork_as(direct ? r.want_pid : r.want_parent_pid);
    if (first < 0) {
        const int err = errno;
        close(report[0]);
        close(report[1]);
        return {-1, -1, err};
    }
    if (first == 0) {
        close(control);
        close(report[0]);
        close(g_lifeline[1]);
        if (direct) run_contender(channel_fd, r);
        // An intermediate: enters new namespaces and/or is the chosen parent.
        if (r.unshare_flags && unshare(r.unshare_flags) != 0) _exit(7);
        signal(SIGCHLD, SIG_DFL);
        const pid_t child = fork_as(r.unshare_flags & CLONE_NEWPID ? 0 : r.want_pid);
        if (child == 0) run_contender(channel_fd, r);
        (void)!write(report[1], &child, sizeof child);
        close(channel_fd);
        int status = 0;
        waitpid(child, &status, 0);
        _exit(0);
    }
    close(report[1]);
    SpawnReply reply{first, -1, 0};
    if (!direct) {
        pid_t child = -1;
        if (read(report[0], &child, sizeof child) != sizeof child || child <= 0) reply = {-1, -1, ECHILD};
        else reply = {child, first, 0};
    }
    close(report[0]);
    return reply;
}

}  // namespace

int lifeline_fd() { return g_lifeline[0]; }

const boost::dll::shared_library* preloaded_library(const std::string& path) {
    const auto it = g_preloaded.find(path);
    return it == g_preloaded.end() ? nullptr : it->second.get();
}

int zygote_main(int control, pid_t parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) return 3;  // the harness died before the line above took effect
    // Contenders and their orphaned backends come back to us and are reaped by
    // the kernel at once: no zombie ever answers kill(pid, 0) for a dead server.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    unsetenv("LD_BIND_NOW");  // ours (Zygote::Zygote): binding is done; a program a contender execs gets the environment it had
    if (pipe(g_lifeline) != 0) return 3;  // inherited by contenders: no CLOEXEC (they do not exec)
    signal(SIGCHLD, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    char buf[65536];
    int unused = -1;
    const ssize_t n = recv_with_fd(control, buf, sizeof buf, &unused);
    if (n <= 0) return 3;
    const json libraries = json::parse(std::string(buf, static_cast<size_t>(n)), nullptr, false);
    for (const auto& [name, path] : libraries.items()) {
        boost::dll::fs::error_code ec;
        auto lib = std::make_unique<boost::dll::shared_library>();
        lib->load(path.get<std::string>(), boost::dll::load_mode::rtld_now, ec);
        if (!ec) g_preloaded[path.get<std::string>()] = std::move(lib);
    }
    for (;;) {
        SpawnRequest req{};
        int channel_fd = -1;
        const ssize_t got = recv_with_fd(control, &req, sizeof req, &channel_fd);
        if (got <= 0) return 0;  // the harness is gone
        const SpawnReply reply = channel_fd >= 0 ? spawn_one(channel_fd, req, control) : SpawnReply{-1, -1, EBADF};
        if (channel_fd >= 0) close(channel_fd);
        if (send(control, &reply, sizeof reply, MSG_NOSIGNAL) != sizeof reply) return 0;
    }
}

Zygote::Zygote(const std::filesystem::path& binary, const json& libraries, const Journal* journal) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
    try {
        // LD_BIND_NOW: every symbol is bound once, in the zygote, instead of
        // lazily in each contender (a write to the GOT there is a copied page).
        pid_ = exec_child({binary.string(), "contender", "--zygote", "--fd", "3", "--parent", std::to_string(getpid())}, sv[1], journal,
                          {.env = {"LD_BIND_NOW=1"}, .output = {}});
    } catch (...) {
        close(sv[0]);
        close(sv[1]);
        throw;
    }
    close(sv[1]);
    control_ = sv[0];
    const std::string hello = libraries.dump();
    if (!send_with_fd(control_, hello.data(), hello.size(), -1)) throw std::runtime_error("cannot reach the zygote");
}

Zygote::~Zygote() {
    if (control_ >= 0) close(control_);
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

std::pair<pid_t, pid_t> Zygote::spawn(int channel_fd, const SpawnOptions& o) {
    const SpawnRequest req{o.free_running, o.unshare_flags, o.uid, o.want_pid, o.want_parent_pid};
    if (!send_with_fd(control_, &req, sizeof req, channel_fd)) throw std::runtime_error("the zygote is gone");
    SpawnReply reply{};
    ssize_t n;
    do n = recv(control_, &reply, sizeof reply, 0);
    while (n < 0 && errno == EINTR);
    if (n != sizeof reply) throw std::runtime_error("the zygote died");
    if (reply.pid <= 0) throw std::runtime_error(fmt::format("the zygote could not start a contender: {}", std::strerror(reply.err)));
    return {reply.pid, reply.parent};
}

}  // namespace ilk
