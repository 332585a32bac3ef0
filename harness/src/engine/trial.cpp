#include "engine/trial.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/real_server.h"
#include "journal.h"
#include "interrupt.h"
#include "registry.h"

namespace ilk {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path TrialEnv::workdir_on(const Host& h) const {
    const auto it = views.find(h.name());
    return it == views.end() ? workdir : it->second;
}

Host& TrialEnv::host_for(const std::string& contender) const {
    auto it = placement.find(contender == "L" ? "B" : contender);
    return it != placement.end() && it->second ? *it->second : *host;
}

bool Contender::alive(ProcessId& p) const {
    if (p.pid <= 0 || p.seen_gone) return false;
    if (!host->alive(p)) p.seen_gone = true;
    return !p.seen_gone;
}

bool Contender::holds() {
    if (running_at < 0) return false;
    if (state == State::running && alive(proc)) return true;
    for (ProcessId& b : backends)
        if (alive(b)) return true;
    return false;
}

namespace {

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

}  // namespace

Trial::Trial(const TrialEnv& env, const StrategySpec& strategy, int index)
    : env_(env), strategy_(strategy),
      dir_(env.host_for("A"), env.workdir_on(env.host_for("A")) / fmt::format("trial-{}", index)) {
    dir_.fresh();
    libraries_ = plugin_libraries(*env.registry);
}

json plugin_libraries(const Registry& registry) {
    json out = json::object();
    for (const Primitive& p : registry.primitives()) out[p.desc->name] = p.library.string();
    return out;
}

Trial::~Trial() {
    for (auto& c : contenders_) {
        if (c->alive(c->proc)) {
            c->host->signal(c->proc, SIGCONT);
            c->host->signal(c->proc, SIGKILL);
        }
        reap(*c);
        for (auto* group : {&c->backends, &c->others})
            for (ProcessId& p : *group)
                if (c->alive(p)) {
                    c->host->signal(p, SIGKILL);
                    wait_gone(*c, p);
                }
    }
    for (pid_t p : sessions_) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
    }
    if (server_uid_ != 0) {
        // What the real servers left with their zygote (a backend whose
        // postmaster was killed, that no contender took as its own): all of
        // it runs as the server's user, and nothing else of the zygote does.
        for (auto& c : contenders_)
            for (ProcessId p : c->host->strays(server_uid_)) {
                c->host->signal(p, SIGKILL);
                for (int i = 0; i < 400 && c->host->alive(p); ++i) usleep(i < 50 ? 50 : 2000);
            }
        // The segments the real servers made: by their processes, as their user.
        for (pid_t p : server_creators_) reclaim_sysv_created_by(p, server_uid_);
    }
    for (const fs::path& d : socket_dirs_) {
        std::error_code ec;
        fs::remove_all(d, ec);
    }
    for (const PlantedProcess& f : foreign_processes_) planting_host().remove_planted(f);
    for (int id : foreign_segments_) planting_host().remove_planted_segment(id);
    // Segments the contenders journaled: remove exactly those (key + creator).
    for (const OwnSegment& seg : segments_) seg.host->reclaim_segment(seg.primitive, seg.key, seg.creator);
    try {
        dir_.remove();
    } catch (const std::exception&) {
        // Its host is gone (a crashed guest): the run's scratch on it goes with it.
    }
}

double Trial::seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count(); }

Host& Trial::host_for(const std::string& name) const {
    const auto it = placed_.find(name);
    return it != placed_.end() ? *it->second : env_.host_for(name);
}

Contender* Trial::find(const std::string& name) {
    for (auto& c : contenders_)
        if (c->name == name) return c.get();
    return nullptr;
}

Contender& Trial::spawn(const std::string& name, const SpawnOptions& options, bool wait) {
    SpawnOptions o = options;
    StrategySpec spec = strategy_;
    auto c = std::make_unique<Contender>();
    c->name = name;
    c->host = &host_for(name);
    if (spec.server) prepare_server(*c, o, spec);
    if (o.uid) {
        // The dedicated uid must be able to reach the data directory, and own it.
        try {
            dir_.give(o.uid);
        } catch (const std::runtime_error& e) {
            throw UnsupportedHere(e.what());
        }
    }
    SpawnedContender spawned = c->host->spawn(o);
    c->proc = spawned.proc;
    c->parent = spawned.parent;
    c->link = std::move(spawned.link);
    if (spec.server) {
        // It becomes a server that knows nothing of the kit: a run that dies
        // leaves its process and its segments to the next clean.
        env_.journal->record("proc", fmt::format("{} {}", c->proc.pid, c->proc.start));
        env_.journal->record("shm-by", fmt::format("{} {}", c->proc.pid, o.uid));
        server_creators_.push_back(c->proc.pid);
    }
    // The data directory as the contender's host sees it.
    const fs::path datadir = env_.workdir_on(*c->host) / dir_.path().filename();
    // The run's scratch directory, where its primitives' mounts are (its
    // hugetlbfs): on this host only. Without it a contender would take the
    // first hugetlbfs mount it sees, another run's as well as its own.
    const std::string scratch = c->host->name() == "local" ? env_.journal->scratch().string() : "";
    c->link->send({{"spec", spec}, {"datadir", datadir.string()}, {"scratch", scratch}, {"libraries", libraries_}, {"free", o.free_running}});
    contenders_.push_back(std::move(c));
    Contender& ref = *contenders_.back();
    if (wait) pump(ref);
    return ref;
}

void Trial::prepare_server(Contender& c, SpawnOptions& o, StrategySpec& spec) {
    const ServerSpec& s = *strategy_.server;
    if (c.host->name() != "local")
        throw UnsupportedHere(fmt::format("{} runs on this machine only: a real server inside a guest is not built yet", s.name));
    const auto [uid, gid] = server_user(s);
    server_uid_ = uid;
    server_gid_ = gid;
    try {
        dir_.give(uid);  // says which directory above it other users cannot search, and the fix
    } catch (const std::runtime_error& e) {
        throw UnsupportedHere(e.what());
    }
    if (!server_data_) {
        copy_data_directory(server_template(s, *env_.journal), dir_.path(), uid, gid);
        server_data_ = true;
    }
    o.uid = uid;
    const std::string trial = dir_.path().filename().string();
    const fs::path sock = dir_.path().parent_path() / (s.shared_port ? trial + "-s" : trial + "-" + c.name);
    // sun_path holds 108 bytes, and the server adds a name such as /.s.PGSQL.6001.lock.
    if (sock.string().size() + 24 > 107)
        throw UnsupportedHere(fmt::format("the socket directory {} is too long a path for a Unix socket (108 bytes with the server's own "
                                          "name): set TMPDIR to a shorter directory",
                                          sock.string()));
    if (std::find(socket_dirs_.begin(), socket_dirs_.end(), sock) == socket_dirs_.end()) {
        if (mkdir(sock.c_str(), 0700) != 0 || chown(sock.c_str(), uid, gid) != 0)
            throw std::runtime_error(fmt::format("cannot make the socket directory {}: {}", sock.string(), std::strerror(errno)));
        socket_dirs_.push_back(sock);
    }
    c.place = {sock.string(), (sock / (c.name + ".log")).string(), (sock / (c.name + "-session.pid")).string(),
               s.shared_port ? 6001 : 6001 + (c.name[0] - 'A')};
    spec.server->place = c.place;
}

void Trial::pump(Contender& c) {
    for (;;) {
        auto m = c.link->receive(env_.step_timeout);
        if (!m) return lost(c);
        if (handle(c, *m)) return;
    }
}

void Trial::lost(Contender& c) {
    const std::string why = c.link->why();
    if (c.alive(c.proc)) {  // alive but silent: hung in a step
        c.host->signal(c.proc, SIGKILL);
        c.why = fmt::format("hung after step '{}' ({} ms): killed", c.gate, env_.step_timeout.count());
        c.state = Contender::State::error;
    } else {
        c.why = fmt::format("died after step '{}'", c.gate);
        c.state = c.state == Contender::State::running ? Contender::State::crashed : Contender::State::error;
    }
    c.link->close();
    reap(c);
    if (why == "interrupted") c.why = "interrupted";
}

bool Trial::handle(Contender& c, const json& msg) {
    const json* m = &msg;
    if (const std::string saw = m->value("saw", ""); !saw.empty())
        c.transcript.push_back({{"step", c.gate}, {"saw", saw}, {"decision", decisions_}});
    if (m->contains("at") && c.state == Contender::State::running) {
        // A running server at a step of its own (a recheck): it still holds.
        c.gate = (*m)["at"].get<std::string>();
        const std::string on = m->value("on", "*");
        c.next = on == "*" ? Access{} : Access{{on}, m->value("w", true)};
        c.changed = !m->value("unchanged", false);
        c.step_pending = true;
        return true;
    }
    if (m->contains("steps_done")) {
        c.step_pending = false;
        c.gate = "RUNNING";
        return true;
    }
    if (m->contains("at")) {
        c.gate = (*m)["at"].get<std::string>();
        const std::string on = m->value("on", "*");
        c.next = on == "*" ? Access{} : Access{{on}, m->value("w", true)};
        c.changed = !m->value("unchanged", false);
        c.state = Contender::State::at_gate;
        return true;
    }
    if (m->contains("exec")) {
        c.external = true;
        c.link->close();  // the program speaks no protocol: what it does is observed
        if (strategy_.server) observe_server(c);
        else observe_external(c);
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
            c.host->record(kind, fmt::format("{} {} {}", primitive, key, c.proc.pid));
            segments_.push_back({c.host, primitive, key, c.proc.pid});
        } else {
            c.host->record(kind, what);
        }
        c.link->send({{"ack", true}});
        return false;
    }
    const std::string state = m->value("state", "");
    if (state == "running") {
        mark_running(c);
        adopt_children(c, (*m)["backends"]);
        c.transcript.push_back({{"step", "RUNNING"}, {"saw", children_text(c)}, {"decision", decisions_}});
        return !m->value("steps", false);  // with steps of its own, its first gate follows at once
    }
    if (state == "stopped") {
        // It found its pidfile not its own and shut down, its backends with it.
        c.step_pending = false;
        c.why = m->value("why", "");
        c.transcript.push_back({{"step", "SHUT DOWN"}, {"saw", c.why}, {"decision", decisions_}});
        c.link->close();
        reap(c);
        for (ProcessId& b : c.backends) wait_gone(c, b);
        c.state = Contender::State::crashed;
        return true;
    }
    if (state == "no-resource") {
        c.state = Contender::State::error;
        c.why = m->value("why", "");
        c.link->close();
        reap(c);
        throw UnsupportedHere(fmt::format("contender {}: {}", c.name, c.why));
    }
    if (state == "refused" || state == "error") {
        c.state = state == "refused" ? Contender::State::refused : Contender::State::error;
        c.why = m->value("why", "");
        c.transcript.push_back({{"step", state == "refused" ? "REFUSED" : "ERROR"}, {"saw", c.why}, {"decision", decisions_}});
        c.link->close();
        reap(c);
        return true;
    }
    return false;
}

// The contender's children as its host sees them, split into the backends it
// says it started and the rest. Never trust the PIDs it reports as host PIDs:
// inside a PID namespace they name other processes here; they are matched
// against each child's PID in its own namespace.
void Trial::adopt_children(Contender& c, const json& reported) {
    std::vector<pid_t> wanted;
    for (const auto& pid : reported) wanted.push_back(pid.get<pid_t>());
    auto is_backend = [&](const ChildProcess& child) {
        return std::find(wanted.begin(), wanted.end(), child.own_pid) != wanted.end();
    };
    std::vector<ChildProcess> children = c.host->children(c.proc);
    for (int i = 0; i < 200 && static_cast<size_t>(std::count_if(children.begin(), children.end(), is_backend)) < wanted.size(); ++i) {
        usleep(100);
        children = c.host->children(c.proc);
    }
    for (const ChildProcess& child : children) (is_backend(child) ? c.backends : c.others).push_back(child.id);
}

// A real program is running once it has lived settle_ms and its ready file,
// if any, exists; refused when it exits first (its last line of output is its
// reason). Every child it has then is a backend: it started them all.
void Trial::observe_external(Contender& c) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto settle = std::chrono::milliseconds(strategy_.settle_ms);
    const std::string& ready = strategy_.ready_file;
    for (int i = 0;; ++i) {
        const auto lived = std::chrono::steady_clock::now() - t0;
        if (!c.alive(c.proc)) {
            std::istringstream in(dir_.read(kCommandLog).value_or(""));
            std::string line, last = "exited without a word";
            while (std::getline(in, line))
                if (!line.empty()) last = line;
            c.state = Contender::State::refused;
            c.why = last;
            c.transcript.push_back({{"step", "REFUSED"}, {"saw", c.why}, {"decision", decisions_}});
            return;
        }
        if (lived >= settle && (ready.empty() || dir_.exists(ready))) break;
        if (lived > settle + env_.step_timeout) {
            c.host->signal(c.proc, SIGKILL);
            reap(c);
            c.state = Contender::State::error;
            c.why = fmt::format("{} did not become ready within {} ms (no {})", strategy_.command.front(),
                                (settle + env_.step_timeout).count(), dir_.path(ready).string());
            return;
        }
        usleep(i < 50 ? 200 : 2000);
    }
    mark_running(c);
    for (const ChildProcess& child : c.host->children(c.proc)) c.backends.push_back(child.id);
    c.transcript.push_back({{"step", "RUNNING"}, {"saw", children_text(c)}, {"decision", decisions_}});
}

// A real server is running once its own client says it accepts a session,
// refused when it exits first (its log lines matching `evidence` are the
// reason). Then its session is opened: its backend is the one child that
// holds for it once it is killed.
void Trial::observe_server(Contender& c) {
    const ServerSpec& s = *strategy_.server;
    const std::vector<std::string> ready = server_command(c, s.ready);
    const std::vector<std::string> env = server_environment(s, c.place.socket_dir);
    const std::string datadir = dir_.path().string();  // left out of the evidence's paths
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0;; ++i) {
        if (!c.alive(c.proc)) {
            c.state = Contender::State::refused;
            c.why = evidence_of(s, read_server_file(c.place.log), datadir);
            c.transcript.push_back({{"step", "REFUSED"}, {"saw", c.why}, {"decision", decisions_}});
            return;
        }
        const std::string log = read_server_file(c.place.log);
        if (const auto waiting = says_waiting(s, log, datadir)) {
            // It would retry for a while, then give up (or run, were the
            // holder gone by then): refused from now, and stopped.
            c.host->signal(c.proc, SIGKILL);
            reap(c);
            c.state = Contender::State::refused;
            c.why = *waiting;
            c.transcript.push_back({{"step", "REFUSED"}, {"saw", "waits for another's lock (stopped): " + c.why}, {"decision", decisions_}});
            return;
        }
        if (says_ready(s, log) && run_as(ready, env, server_uid_, server_gid_, "/dev/null", std::chrono::milliseconds(s.ready_ms)) == 0 &&
            c.alive(c.proc))
            break;
        if (std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(s.ready_ms)) {
            c.host->signal(c.proc, SIGKILL);
            reap(c);
            c.state = Contender::State::error;
            c.why = fmt::format("{} did not accept a session within {} ms; its log: {}", s.name, s.ready_ms, evidence_of(s, read_server_file(c.place.log), datadir));
            return;
        }
        usleep(i < 40 ? 5000 : 20000);
    }
    mark_running(c);
    if (!s.session.empty()) open_session(c);
    if (c.state != Contender::State::running) return;
    if (s.session.empty())
        for (const ChildProcess& child : c.host->children(c.proc)) c.others.push_back(child.id);
    c.transcript.push_back({{"step", "RUNNING"}, {"saw", "accepts sessions; " + children_text(c)}, {"decision", decisions_}});
}

std::vector<std::string> Trial::server_command(const Contender& c, const std::vector<std::string>& args) const {
    ServerSpec at = *strategy_.server;
    at.place = c.place;
    std::vector<std::string> out;
    for (const std::string& a : args) out.push_back(expand(a, at, dir_.path().string()));
    return out;
}

// The session's backend writes its PID (as its own PID namespace sees it) to
// the session's PID file. That is data, never an order: the kit takes as the
// backend only a child of the server whose PID it is.
void Trial::open_session(Contender& c) {
    const ServerSpec& s = *strategy_.server;
    const std::string log = c.place.socket_dir + "/" + c.name + "-session.log";
    sessions_.push_back(start_as(server_command(c, s.session), server_environment(s, c.place.socket_dir), server_uid_, server_gid_, log, env_.journal));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.ready_ms);
    long reported = -1;
    for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        const std::string text = read_server_file(c.place.session_pid_file);
        char* end = nullptr;
        const long v = std::strtol(text.c_str(), &end, 10);
        if (end != text.c_str() && *end == '\n' && v > 1) {
            reported = v;
            break;
        }
        if (waitpid(sessions_.back(), nullptr, WNOHANG) == sessions_.back()) {
            sessions_.pop_back();
            break;
        }
        usleep(i < 40 ? 5000 : 20000);
    }
    if (reported > 1) adopt_children(c, json::array({reported}));
    if (c.backends.empty()) {
        c.state = Contender::State::error;
        c.why = reported > 1 ? fmt::format("the session's backend reported PID {}, which is no child of {} ({})", reported, s.name, c.proc.pid)
                             : fmt::format("the session did not open within {} ms: {}", s.ready_ms, evidence_of(s, read_server_file(log), dir_.path().string()));
        return;
    }
    for (const ProcessId& b : c.backends) env_.journal->record("proc", fmt::format("{} {}", b.pid, b.start));
}

void Trial::mark_running(Contender& c) {
    c.state = Contender::State::running;
    c.running_at = decisions_;
    c.running_since = std::chrono::steady_clock::now();
    c.gate = "RUNNING";
}

void Trial::wait_gone(Contender& c, ProcessId& p) {
    for (int i = 0; i < 400 && c.alive(p); ++i) usleep(i < 50 ? 50 : 2000);
}

// Contenders and their backends belong to their host's zygote, which reaps
// at once: wait until gone.
void Trial::reap(Contender& c) {
    wait_gone(c, c.proc);
    if (c.parent.pid > 0 && c.alive(c.parent)) {
        c.host->signal(c.parent, SIGKILL);
        wait_gone(c, c.parent);  // its PID may be wanted again at once (a lone starter with the same chosen parent PID)
    }
}

void Trial::advance(Contender& c) {
    if (!c.can_step()) return;
    c.step_pending = false;
    ++decisions_;
    c.link->send({{"go", true}});
    pump(c);
}

void Trial::run_to_end(Contender& c) {
    while (c.enabled()) advance(c);
}

void Trial::run_free_to_end() {
    const auto deadline = std::chrono::steady_clock::now() + env_.step_timeout * 4;
    for (;;) {
        std::vector<Contender*> who;
        for (auto& c : contenders_)
            if (c->link && c->link->open() && c->state != Contender::State::running) who.push_back(c.get());
        if (who.empty()) return;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || g_interrupted.load()) {
            for (Contender* c : who) lost(*c);
            return;
        }
        // Links of one agent share its stream: poll each descriptor once.
        std::vector<pollfd> fds;
        bool buffered = false;
        for (Contender* c : who) {
            buffered = buffered || c->link->has_buffered();
            const int fd = c->link->poll_fd();
            if (std::none_of(fds.begin(), fds.end(), [&](const pollfd& p) { return p.fd == fd; })) fds.push_back({fd, POLLIN, 0});
        }
        if (!buffered && poll(fds.data(), fds.size(), static_cast<int>(left.count())) <= 0) continue;
        for (Contender* c : who) {
            auto m = c->link->receive(std::chrono::milliseconds(0));
            if (!m) {
                if (c->link->why() != "timed out") lost(*c);
                continue;
            }
            handle(*c, *m);
            while (c->link->open() && c->link->has_buffered())  // buffered ones
                if (auto more = c->link->receive(std::chrono::milliseconds(0))) handle(*c, *more);
                else break;
        }
    }
}

void Trial::crash(Contender& c, bool with_backends) {
    ++decisions_;
    if (c.alive(c.proc)) {
        c.host->signal(c.proc, SIGKILL);
        c.host->signal(c.proc, SIGCONT);
    }
    c.link->close();
    reap(c);
    if (with_backends)
        for (auto* group : {&c.backends, &c.others}) {  // a real server's other children are its own processes too
            if (group == &c.others && !strategy_.server) continue;
            for (ProcessId& b : *group)
                if (c.alive(b)) {
                    c.host->signal(b, SIGKILL);
                    wait_gone(c, b);
                }
        }
    c.transcript.push_back({{"step", with_backends ? "CRASH (SIGKILL, backends too)" : "CRASH (SIGKILL)"}, {"saw", ""}, {"decision", decisions_}});
    c.state = Contender::State::crashed;
}

void Trial::host_died(Host& h) {
    for (auto& c : contenders_) {
        if (c->host != &h) continue;
        for (ProcessId* p : {&c->proc, &c->parent}) p->seen_gone = true;
        for (auto* group : {&c->backends, &c->others})
            for (ProcessId& p : *group) p.seen_gone = true;
        if (c->link) c->link->close();
        c->transcript.push_back({{"step", "ITS HOST DIED"}, {"saw", h.name()}, {"decision", decisions_}});
        if (c->state == Contender::State::running || c->state == Contender::State::at_gate) c->state = Contender::State::crashed;
    }
}

int Trial::holders() {
    int n = 0;
    for (const auto& c : contenders_) n += c->holds() ? 1 : 0;
    return n;
}

void Trial::freeze(Contender& c) {
    c.frozen = true;
    c.host->signal(c.proc, SIGSTOP);
    c.transcript.push_back({{"step", "FROZEN (SIGSTOP)"}, {"saw", ""}, {"decision", decisions_}});
}

bool Trial::command(Contender& c, const std::string& cmd, std::chrono::milliseconds timeout) {
    if (c.external) return command_external(c, cmd);
    if (!c.link->send({{"cmd", cmd}})) return false;
    auto m = c.link->receive(timeout.count() > 0 ? timeout : env_.step_timeout);
    c.transcript.push_back({{"step", "command " + cmd}, {"saw", m ? m->value("saw", "done") : c.link->why()}, {"decision", decisions_}});
    if (cmd == "shutdown") {
        c.link->close();
        reap(c);
        c.state = Contender::State::crashed;  // gone; running_at stays for history
        c.backends.clear();
    }
    return m.has_value();
}

// A real program is asked to shut down as its users would: SIGTERM, then
// waited for. It cannot be asked to do anything else.
bool Trial::command_external(Contender& c, const std::string& cmd) {
    const std::string program = strategy_.server ? strategy_.server->name : strategy_.command.front();
    if (cmd != "shutdown")
        throw UnsupportedHere(fmt::format("does not apply: {} is a real program, and the scenario needs it to '{}', which only the kit's "
                                          "models can be made to do",
                                          program, cmd));
    const int sig = strategy_.server ? stop_signal_number(*strategy_.server) : SIGTERM;
    c.host->signal(c.proc, sig);
    const auto deadline = std::chrono::steady_clock::now() + env_.step_timeout;
    while (c.alive(c.proc) && std::chrono::steady_clock::now() < deadline) usleep(2000);
    const bool stopped = !c.alive(c.proc);
    c.transcript.push_back({{"step", fmt::format("command shutdown ({})", strsignal(sig))}, {"saw", stopped ? "exited" : "still running"}, {"decision", decisions_}});
    c.state = Contender::State::crashed;  // gone (or to be judged as still holding); running_at stays for history
    return stopped;
}

pid_t Trial::spawn_foreign_process(pid_t want_pid, uid_t uid, int attach_shmid) {
    foreign_processes_.push_back(planting_host().plant_process(want_pid, uid, attach_shmid));
    return foreign_processes_.back().id.pid;
}

int Trial::plant_foreign_segment(long long key) {
    const int id = planting_host().plant_segment(key);
    if (id < 0) throw std::runtime_error(fmt::format("cannot plant a foreign segment on key {}: {}", key, std::strerror(errno)));
    foreign_segments_.push_back(id);
    return id;
}

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
    std::vector<Contender*> holders;
    for (const auto& c : contenders_)
        if (c->holds()) holders.push_back(c.get());
    if (holders.size() >= 2) {
        Contender* first = holders[0];
        for (Contender* h : holders)
            if (h->running_at < first->running_at) first = h;
        Contender* second = holders[0] == first ? holders[1] : holders[0];
        auto what = [](Contender* c) {
            return c->alive(c->proc) ? std::string("running") : std::string("crashed, its backends still alive");
        };
        Violation v{"exclusion",
                    fmt::format("{} and {} both hold the data directory: {} reached RUNNING first ({} now); after that "
                                "{} did {} and reached RUNNING too ({}).",
                                first->name, second->name, first->name, what(first), second->name,
                                steps_after(*second, first->running_at), what(second))};
        v.since = second->running_since;
        return v;
    }
    for (PlantedProcess& f : foreign_processes_) {
        if (const int sig = planting_host().planted_signal(f))
            return Violation{"collateral", fmt::format("the unrelated process {} received signal {} from a contender", f.id.pid, sig)};
        if (!planting_host().alive(f.id)) return Violation{"collateral", fmt::format("the unrelated process {} was killed", f.id.pid)};
    }
    for (int id : foreign_segments_)
        if (!planting_host().segment_intact(id))
            return Violation{"collateral", fmt::format("a contender removed the foreign segment {} that sat on the recorded key", id)};
    for (const auto& c : contenders_)
        if (c->state == Contender::State::error)
            return Violation{"error", fmt::format("contender {} failed: {}", c->name, c->why)};
    return std::nullopt;
}

std::optional<Violation> Trial::check_liveness(const SpawnOptions& options) {
    for (const auto& c : contenders_)
        if (c->holds() || c->alive(c->proc)) return std::nullopt;  // someone still holds (or may): nothing to ask
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
        for (ProcessId& p : c->others)
            if (c->alive(p))
                out += fmt::format("; process {} (a child of {} that is not one of its backends) is still alive", p.pid, c->name);
    return out;
}

json Trial::transcript() const {
    json out = json::object();
    for (const auto& c : contenders_) out[c->name] = {{"pid", c->proc.pid}, {"steps", c->transcript}, {"why", c->why}};
    return out;
}

}  // namespace ilk
