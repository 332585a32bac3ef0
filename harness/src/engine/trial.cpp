#include "engine/trial.h"

#include "engine/zygote.h"

#include <fcntl.h>
#include <poll.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "journal.h"
#include "interrupt.h"
#include "registry.h"

namespace ilk {

using json = nlohmann::json;
namespace fs = std::filesystem;

bool ProcessId::alive() const {
    if (pid <= 0 || seen_gone) return false;
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(in, line)) return false;
    const size_t paren = line.rfind(')');
    if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] == 'Z' || line[paren + 2] == 'X') return false;
    return process_start_time(pid) == start;
}

bool Contender::holds() const {
    if (running_at < 0) return false;
    if (state == State::running && proc.alive()) return true;
    for (const ProcessId& b : backends)
        if (b.alive()) return true;
    return false;
}

namespace {

// Our own children (foreign processes) are reaped with waitpid; contenders and
// their backends belong to the zygote, which reaps at once: wait until gone.
void reap_pid(pid_t pid) {
    if (pid <= 0) return;
    for (int i = 0; i < 400; ++i) {
        const pid_t r = waitpid(pid, nullptr, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD && kill(pid, 0) != 0)) return;
        usleep(i < 50 ? 100 : 2000);
    }
}

// Children of pid as seen from this PID namespace (/proc/PID/task/*/children).
std::vector<pid_t> host_children(pid_t pid) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
        std::ifstream in(task.path() / "children");
        for (pid_t child; in >> child;) out.push_back(child);
    }
    return out;
}

// A process's PID in its own (innermost) PID namespace: the last field of
// NSpid in /proc/PID/status; -1 if it is gone.
pid_t innermost_pid(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("NSpid:", 0) != 0) continue;
        const size_t last = line.find_last_of(" \t");
        return static_cast<pid_t>(std::strtol(line.c_str() + last + 1, nullptr, 10));
    }
    return -1;
}

std::string pid_list(const std::vector<ProcessId>& ps) {
    std::vector<pid_t> pids;
    for (const ProcessId& p : ps) pids.push_back(p.pid);
    return fmt::format("{}", fmt::join(pids, ", "));
}

// "1 backend" / "2 backends, and 1 other child (not a backend): 4242"
std::string children_text(const Contender& c) {
    std::string out = fmt::format("{} backend{}", c.backends.size(), c.backends.size() == 1 ? "" : "s");
    if (!c.others.empty())
        out += fmt::format(", and {} other child{} (not a backend): {}", c.others.size(), c.others.size() == 1 ? "" : "ren",
                           pid_list(c.others));
    return out;
}

void wait_gone(ProcessId& p) {
    for (int i = 0; i < 400 && p.alive(); ++i) usleep(i < 50 ? 50 : 2000);
    p.seen_gone = !p.alive();
}


}  // namespace

Trial::Trial(const TrialEnv& env, const StrategySpec& strategy, int index) : env_(env), strategy_(strategy) {
    datadir_ = env.workdir / fmt::format("trial-{}", index);
    std::filesystem::remove_all(datadir_);
    std::filesystem::create_directories(datadir_);
    libraries_ = plugin_libraries(*env.registry);
}

json plugin_libraries(const Registry& registry) {
    json out = json::object();
    for (const Primitive& p : registry.primitives()) out[p.desc->name] = p.library.string();
    return out;
}

Trial::~Trial() {
    for (auto& c : contenders_) {
        if (c->proc.alive()) {
            kill(c->proc.pid, SIGCONT);
            kill(c->proc.pid, SIGKILL);
        }
        reap(*c);
        for (auto* group : {&c->backends, &c->others})
            for (ProcessId& p : *group)
                if (p.alive()) {
                    kill(p.pid, SIGKILL);
                    wait_gone(p);
                }
    }
    for (Foreign& f : foreign_processes_) {
        if (f.proc.alive()) kill(f.proc.pid, SIGKILL);
        reap_pid(f.waitable);
        if (f.signal_pipe >= 0) close(f.signal_pipe);
    }
    for (int id : foreign_segments_) shmctl(id, IPC_RMID, nullptr);
    // Segments the contenders journaled: remove exactly those (key + creator).
    const ProbeContext ctx{"/", "/", geteuid() == 0, nullptr, nullptr};
    for (const auto& [primitive, key, creator] : segments_)
        if (const Primitive* p = env_.registry->find(primitive); p && p->desc->segment)
            p->desc->segment->reclaim(&ctx, key, creator);
    std::string error;
    remove_tree_same_fs(datadir_, &error);
}

Contender* Trial::find(const std::string& name) {
    for (auto& c : contenders_)
        if (c->name == name) return c.get();
    return nullptr;
}

Contender& Trial::spawn(const std::string& name, const SpawnOptions& o, bool wait) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
    if (o.uid) {
        // The dedicated uid must be able to reach the data directory.
        for (fs::path p = datadir_.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
            struct stat st {};
            if (stat(p.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH))
                throw UnsupportedHere(fmt::format("{} is not searchable by other users (mode {:o}), so contenders cannot run "
                                                  "under the dedicated uid {}: chmod o+x it or choose another --target",
                                                  p.string(), st.st_mode & 07777, o.uid));
        }
        if (chown(datadir_.c_str(), o.uid, o.uid) != 0) throw std::runtime_error("cannot chown the data directory");
    }
    std::pair<pid_t, pid_t> pids;
    try {
        pids = env_.zygote->spawn(sv[1], o);
    } catch (...) {
        close(sv[0]);
        close(sv[1]);
        throw;
    }
    close(sv[1]);
    auto c = std::make_unique<Contender>();
    c->name = name;
    c->proc = {pids.first, process_start_time(pids.first)};
    env_.journal->record("proc", fmt::format("{} {}", c->proc.pid, c->proc.start));
    if (pids.second > 0) {
        c->parent = {pids.second, process_start_time(pids.second)};
        env_.journal->record("proc", fmt::format("{} {}", c->parent.pid, c->parent.start));
    }
    c->channel = Channel(sv[0]);
    c->channel.send({{"spec", strategy_}, {"datadir", datadir_.string()}, {"libraries", libraries_}, {"free", o.free_running}});
    contenders_.push_back(std::move(c));
    Contender& ref = *contenders_.back();
    if (wait) pump(ref);
    return ref;
}

void Trial::pump(Contender& c) {
    for (;;) {
        auto m = c.channel.receive(env_.step_timeout);
        if (!m) return lost(c);
        if (handle(c, *m)) return;
    }
}

void Trial::lost(Contender& c) {
    const std::string why = c.channel.why();
    if (c.proc.alive()) {  // alive but silent: hung in a step
        kill(c.proc.pid, SIGKILL);
        c.why = fmt::format("hung after step '{}' ({} ms): killed", c.gate, env_.step_timeout.count());
        c.state = Contender::State::error;
    } else {
        c.why = fmt::format("died after step '{}'", c.gate);
        c.state = c.state == Contender::State::running ? Contender::State::crashed : Contender::State::error;
    }
    c.channel.close();
    reap(c);
    if (why == "interrupted") c.why = "interrupted";
}

bool Trial::handle(Contender& c, const json& msg) {
    const json* m = &msg;
    if (const std::string saw = m->value("saw", ""); !saw.empty())
        c.transcript.push_back({{"step", c.gate}, {"saw", saw}, {"decision", decisions_}});
    if (m->contains("at")) {
        c.gate = (*m)["at"].get<std::string>();
        c.state = Contender::State::at_gate;
        return true;
    }
    if (m->contains("journal")) {
        // The contender says what it is about to create; the creator we
        // journal is its PID as this host sees it (in a PID namespace the
        // contender only knows its own small number).
        const std::string kind = (*m)["journal"]["kind"], what = (*m)["journal"]["what"];
        char primitive[64] = {};
        long long key = 0, ignored = 0;
        if (kind == "segment" && std::sscanf(what.c_str(), "%63s %lld %lld", primitive, &key, &ignored) == 3) {
            env_.journal->record(kind, fmt::format("{} {} {}", primitive, key, c.proc.pid));
            segments_.emplace_back(primitive, key, c.proc.pid);
        } else {
            env_.journal->record(kind, what);
        }
        c.channel.send({{"ack", true}});
        return false;
    }
    const std::string state = m->value("state", "");
    if (state == "running") {
        c.state = Contender::State::running;
        c.running_at = decisions_;
        c.gate = "RUNNING";
        adopt_children(c, (*m)["backends"]);
        c.transcript.push_back({{"step", "RUNNING"}, {"saw", children_text(c)}, {"decision", decisions_}});
        return true;
    }
    if (state == "no-resource") {
        c.state = Contender::State::error;
        c.why = m->value("why", "");
        c.channel.close();
        reap(c);
        throw UnsupportedHere(fmt::format("contender {}: {}", c.name, c.why));
    }
    if (state == "refused" || state == "error") {
        c.state = state == "refused" ? Contender::State::refused : Contender::State::error;
        c.why = m->value("why", "");
        c.transcript.push_back({{"step", state == "refused" ? "REFUSED" : "ERROR"}, {"saw", c.why}, {"decision", decisions_}});
        c.channel.close();
        reap(c);
        return true;
    }
    return false;
}

// The contender's children as this host sees them, split into the backends it
// says it started and the rest. Never trust the PIDs it reports as host PIDs:
// inside a PID namespace they name other processes here; they are matched
// against each child's PID in its own namespace.
void Trial::adopt_children(Contender& c, const json& reported) {
    std::vector<pid_t> wanted;
    for (const auto& pid : reported) wanted.push_back(pid.get<pid_t>());
    std::vector<pid_t> children = host_children(c.proc.pid);
    auto backends_seen = [&] {
        size_t n = 0;
        for (pid_t child : children)
            n += std::find(wanted.begin(), wanted.end(), innermost_pid(child)) != wanted.end();
        return n;
    };
    for (int i = 0; i < 200 && backends_seen() < wanted.size(); ++i) {
        usleep(100);
        children = host_children(c.proc.pid);
    }
    for (pid_t pid : children) {
        const ProcessId p{pid, process_start_time(pid)};
        env_.journal->record("proc", fmt::format("{} {}", p.pid, p.start));
        const bool backend = std::find(wanted.begin(), wanted.end(), innermost_pid(pid)) != wanted.end();
        (backend ? c.backends : c.others).push_back(p);
    }
}

void Trial::reap(Contender& c) {
    wait_gone(c.proc);
    if (c.parent.pid > 0 && c.parent.alive()) {
        kill(c.parent.pid, SIGKILL);
        wait_gone(c.parent);  // its PID may be wanted again at once (a lone starter with the same chosen parent PID)
    }
}

void Trial::advance(Contender& c) {
    if (!c.enabled()) return;
    ++decisions_;
    c.channel.send({{"go", true}});
    pump(c);
}

void Trial::run_to_end(Contender& c) {
    while (c.enabled()) advance(c);
}

void Trial::run_free_to_end() {
    const auto deadline = std::chrono::steady_clock::now() + env_.step_timeout * 4;
    for (;;) {
        std::vector<pollfd> fds;
        std::vector<Contender*> who;
        for (auto& c : contenders_)
            if (c->channel.open() && c->state != Contender::State::running) {
                fds.push_back({c->channel.fd(), POLLIN, 0});
                who.push_back(c.get());
            }
        if (fds.empty()) return;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || g_interrupted.load()) {
            for (Contender* c : who) lost(*c);
            return;
        }
        if (poll(fds.data(), fds.size(), static_cast<int>(left.count())) <= 0) continue;
        for (size_t i = 0; i < fds.size(); ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
            auto m = who[i]->channel.receive(std::chrono::milliseconds(0));
            if (!m) {
                if (who[i]->channel.why() != "timed out") lost(*who[i]);
                continue;
            }
            handle(*who[i], *m);
            while (auto more = who[i]->channel.receive(std::chrono::milliseconds(0))) handle(*who[i], *more);  // buffered ones
        }
    }
}

void Trial::crash(Contender& c, bool with_backends) {
    ++decisions_;
    if (c.proc.alive()) {
        kill(c.proc.pid, SIGKILL);
        kill(c.proc.pid, SIGCONT);
    }
    c.channel.close();
    reap(c);
    if (with_backends)
        for (ProcessId& b : c.backends)
            if (b.alive()) {
                kill(b.pid, SIGKILL);
                wait_gone(b);
            }
    c.transcript.push_back({{"step", with_backends ? "CRASH (SIGKILL, backends too)" : "CRASH (SIGKILL)"}, {"saw", ""}, {"decision", decisions_}});
    c.state = Contender::State::crashed;
}

void Trial::freeze(Contender& c) {
    kill(c.proc.pid, SIGSTOP);
    c.transcript.push_back({{"step", "FROZEN (SIGSTOP)"}, {"saw", ""}, {"decision", decisions_}});
}

bool Trial::command(Contender& c, const std::string& cmd) {
    if (!c.channel.send({{"cmd", cmd}})) return false;
    auto m = c.channel.receive(env_.step_timeout);
    c.transcript.push_back({{"step", "command " + cmd}, {"saw", m ? "done" : c.channel.why()}, {"decision", decisions_}});
    if (cmd == "shutdown") {
        c.channel.close();
        reap(c);
        c.state = Contender::State::crashed;  // gone; running_at stays for history
        c.backends.clear();
    }
    return m.has_value();
}

pid_t Trial::spawn_foreign_process(pid_t want_pid, uid_t uid, int attach_shmid) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe");
    const pid_t pid = fork_as(want_pid);
    if (pid < 0) throw std::runtime_error(fmt::format("cannot make a process with PID {}: {}", want_pid, std::strerror(errno)));
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
    env_.journal->record("proc", fmt::format("{} {}", p.pid, p.start));
    foreign_processes_.push_back({p, fds[0], pid});
    return pid;
}

void Trial::plant_foreign_segment(int shmid) { foreign_segments_.push_back(shmid); }

namespace {

std::string steps_after(const Contender& c, int decision) {
    std::string out;
    for (const auto& t : c.transcript)
        if (t["decision"].get<int>() > decision) {
            if (!out.empty()) out += ", ";
            out += fmt::format("'{}'", t["step"].get<std::string>());
            if (const std::string saw = t["saw"]; !saw.empty()) out += fmt::format(" ({})", saw);
        }
    return out.empty() ? "its steps (free-running: not recorded one by one)" : out;
}

}  // namespace

std::optional<Violation> Trial::check() {
    std::vector<const Contender*> holders;
    for (const auto& c : contenders_)
        if (c->holds()) holders.push_back(c.get());
    if (holders.size() >= 2) {
        const Contender* first = holders[0];
        for (const Contender* h : holders)
            if (h->running_at < first->running_at) first = h;
        const Contender* second = holders[0] == first ? holders[1] : holders[0];
        auto what = [](const Contender* c) {
            return c->proc.alive() ? std::string("running") : std::string("crashed, its backends still alive");
        };
        return Violation{"exclusion",
                         fmt::format("{} and {} both hold the data directory: {} reached RUNNING first ({} now); after that "
                                     "{} did {} and reached RUNNING too ({}).",
                                     first->name, second->name, first->name, what(first), second->name,
                                     steps_after(*second, first->running_at), what(second))};
    }
    for (const Foreign& f : foreign_processes_) {
        int sig = 0;
        if (f.signal_pipe >= 0 && read(f.signal_pipe, &sig, sizeof sig) == sizeof sig)
            return Violation{"collateral", fmt::format("the unrelated process {} received signal {} from a contender", f.proc.pid, sig)};
        if (!f.proc.alive()) return Violation{"collateral", fmt::format("the unrelated process {} was killed", f.proc.pid)};
    }
    for (int id : foreign_segments_) {
        shmid_ds ds{};
        if (shmctl(id, IPC_STAT, &ds) != 0 || (ds.shm_perm.mode & SHM_DEST))
            return Violation{"collateral", fmt::format("a contender removed the foreign segment {} that sat on the recorded key", id)};
    }
    for (const auto& c : contenders_)
        if (c->state == Contender::State::error)
            return Violation{"error", fmt::format("contender {} failed: {}", c->name, c->why)};
    return std::nullopt;
}

std::optional<Violation> Trial::check_liveness(const SpawnOptions& options) {
    for (const auto& c : contenders_)
        if (c->holds() || c->proc.alive()) return std::nullopt;  // someone still holds (or may): nothing to ask
    SpawnOptions lone_options = options;
    lone_options.free_running = false;
    Contender& lone = spawn("L", lone_options);
    run_to_end(lone);
    if (lone.state == Contender::State::running) return check();
    if (lone.state == Contender::State::refused)
        return Violation{"liveness", fmt::format("nothing of an earlier server was alive, yet a lone starter L refused: \"{}\"{}", lone.why,
                                                 survivors_text())};
    return Violation{"error", fmt::format("the lone starter failed: {}", lone.why)};
}

// What is still alive of earlier contenders without being a server or one of
// its backends: whatever keeps a directory held after they are all gone.
std::string Trial::survivors_text() const {
    std::string out;
    for (const auto& c : contenders_)
        for (const ProcessId& p : c->others)
            if (p.alive())
                out += fmt::format("; process {} (a child of {} that is not one of its backends) is still alive", p.pid, c->name);
    return out;
}

json Trial::transcript() const {
    json out = json::object();
    for (const auto& c : contenders_) out[c->name] = {{"pid", c->proc.pid}, {"steps", c->transcript}, {"why", c->why}};
    return out;
}

}  // namespace ilk
