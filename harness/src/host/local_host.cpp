#include "host/local_host.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/channel.h"
#include "engine/zygote.h"
#include "host/files.h"
#include "journal.h"
#include "pid_choice.h"
#include "registry.h"

namespace ilk {

namespace {

class SocketLink : public Link {
public:
    explicit SocketLink(int fd) : channel_(fd) {}
    bool send(const nlohmann::json& m) override { return channel_.send(m); }
    std::optional<nlohmann::json> receive(std::chrono::milliseconds timeout) override { return channel_.receive(timeout); }
    const std::string& why() const override { return channel_.why(); }
    bool open() const override { return channel_.open(); }
    void close() override { channel_.close(); }
    int poll_fd() const override { return channel_.fd(); }
    bool has_buffered() const override { return channel_.has_buffered(); }

private:
    Channel channel_;
};

}  // namespace

std::unique_ptr<Link> socket_link(int fd) { return std::make_unique<SocketLink>(fd); }

bool process_alive(const ProcessId& p) {
    if (p.pid <= 0 || p.seen_gone) return false;
    const auto st = read_proc_stat(p.pid);
    return st && st->state != 'Z' && st->state != 'X' && st->start == p.start;
}

namespace {
// A small /proc file in one read(2) (no stream: these run after every step).
std::string read_proc(const char* path) {
    char buf[4096];
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    const ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string{};
}
}  // namespace

pid_t process_own_pid(pid_t pid) {
    char path[32];
    std::snprintf(path, sizeof path, "/proc/%d/status", pid);
    const std::string status = read_proc(path);
    const size_t at = status.find("\nNSpid:");
    if (at == std::string::npos) return -1;
    const std::string line = status.substr(at + 1, status.find('\n', at + 1) - at - 1);
    const size_t last = line.find_last_of(" \t");
    return static_cast<pid_t>(std::strtol(line.c_str() + last + 1, nullptr, 10));
}

LocalHost::LocalHost(const Registry& registry, const Journal* journal, const std::filesystem::path& binary)
    : registry_(registry), journal_(journal), zygote_(std::make_unique<Zygote>(binary, plugin_libraries(registry), journal)) {}

LocalHost::~LocalHost() {
    for (const Planted& p : planted_)
        if (p.signal_pipe >= 0) close(p.signal_pipe);
}

SpawnedContender LocalHost::spawn(const SpawnOptions& o) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
    std::pair<pid_t, pid_t> pids;
    try {
        pids = zygote_->spawn(sv[1], o);
    } catch (...) {
        close(sv[0]);
        close(sv[1]);
        throw;
    }
    close(sv[1]);
    SpawnedContender out;
    out.link = socket_link(sv[0]);
    out.proc = {pids.first, process_start_time(pids.first)};
    record("proc", fmt::format("{} {}", out.proc.pid, out.proc.start));
    if (pids.second > 0) {
        out.parent = {pids.second, process_start_time(pids.second)};
        record("proc", fmt::format("{} {}", out.parent.pid, out.parent.start));
    }
    return out;
}

void LocalHost::signal(const ProcessId& p, int sig) {
    if (process_alive(p)) ::kill(p.pid, sig);
}

std::vector<ChildProcess> LocalHost::children(const ProcessId& p) {
    std::vector<ChildProcess> out;
    for (pid_t child : process_children(p.pid)) {
        ChildProcess c{{child, process_start_time(child)}, process_own_pid(child)};
        record("proc", fmt::format("{} {}", c.id.pid, c.id.start));
        out.push_back(c);
    }
    return out;
}

std::vector<ProcessId> LocalHost::strays(uid_t uid) {
    std::vector<ProcessId> out;
    for (pid_t child : process_children(zygote_->pid())) {
        struct stat st {};
        if (stat(fmt::format("/proc/{}", child).c_str(), &st) == 0 && st.st_uid == uid)
            out.push_back({child, process_start_time(child)});
    }
    return out;
}

void LocalHost::record(const std::string& kind, const std::string& what) {
    if (journal_) journal_->record(kind, what);
}

void LocalHost::reclaim_segment(const std::string& primitive, long long key, pid_t creator) {
    // The run's scratch directory: a plugin reclaims where this run made its segments, not another run's.
    const std::string scratch = journal_ ? journal_->scratch().string() : "/";
    const ProbeContext ctx{scratch.c_str(), scratch.c_str(), geteuid() == 0, nullptr, nullptr};
    if (const Primitive* p = registry_.find(primitive); p && p->desc->segment) p->desc->segment->reclaim(&ctx, key, creator);
}

PlantedProcess LocalHost::plant_process(pid_t want_pid, uid_t uid, int attach_shmid) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe");
    const pid_t pid = fork_as(want_pid);
    if (pid < 0) {
        const int err = errno;
        close(fds[0]);
        close(fds[1]);
        throw std::runtime_error(fmt::format("cannot make a process with PID {}: {}", want_pid, std::strerror(err)));
    }
    if (pid == 0) {
        // An unrelated program: reports every catchable signal it receives.
        static int report_fd;
        report_fd = fds[1];
        if (fds[1] > 3) close_range(3, static_cast<unsigned>(fds[1] - 1), 0);
        close_range(static_cast<unsigned>(fds[1] + 1), ~0U, 0);
        struct sigaction sa {};
        sa.sa_handler = [](int sig) { (void)!write(report_fd, &sig, sizeof sig); };
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGALRM}) sigaction(sig, &sa, nullptr);
        if (attach_shmid >= 0 && shmat(attach_shmid, nullptr, 0) == reinterpret_cast<void*>(-1)) _exit(4);
        if (uid && (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)) _exit(5);
        for (;;) pause();
    }
    close(fds[1]);
    const ProcessId p{pid, process_start_time(pid)};
    record("proc", fmt::format("{} {}", p.pid, p.start));
    planted_.push_back({pid, fds[0]});
    return {p, static_cast<int>(planted_.size() - 1)};
}

int LocalHost::planted_signal(const PlantedProcess& p) {
    int sig = 0;
    const Planted& mine = planted_.at(static_cast<size_t>(p.handle));
    if (mine.signal_pipe >= 0 && read(mine.signal_pipe, &sig, sizeof sig) == sizeof sig) return sig;
    return 0;
}

void LocalHost::remove_planted(const PlantedProcess& p) {
    Planted& mine = planted_.at(static_cast<size_t>(p.handle));
    if (process_alive(p.id)) ::kill(p.id.pid, SIGKILL);
    // Our own child: reaped with waitpid.
    for (int i = 0; i < 400; ++i) {
        const pid_t r = waitpid(mine.pid, nullptr, WNOHANG);
        if (r == mine.pid || (r < 0 && errno == ECHILD)) break;
        usleep(i < 50 ? 100 : 2000);
    }
    if (mine.signal_pipe >= 0) close(mine.signal_pipe);
    mine.signal_pipe = -1;
}

int LocalHost::plant_segment(long long key) {
    record("shm", fmt::format("{} {}", key, getpid()));  // undone by the journal itself, no plugin needed
    return shmget(static_cast<key_t>(key), 4096, IPC_CREAT | IPC_EXCL | 0666);
}

bool LocalHost::segment_intact(int id) {
    shmid_ds ds{};
    return shmctl(id, IPC_STAT, &ds) == 0 && !(ds.shm_perm.mode & SHM_DEST);
}

void LocalHost::remove_planted_segment(int id) { shmctl(id, IPC_RMID, nullptr); }

std::optional<std::pair<int, pid_t>> LocalHost::segment_on_key(long long key) {
    const int id = shmget(static_cast<key_t>(key), 0, 0);
    shmid_ds ds{};
    if (id < 0 || shmctl(id, IPC_STAT, &ds) != 0) return std::nullopt;
    return std::make_pair(id, ds.shm_cpid);
}

nlohmann::json LocalHost::file(const nlohmann::json& request) { return do_file_request(request); }

}  // namespace ilk
