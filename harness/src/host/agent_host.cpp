#include "host/agent_host.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "exec_child.h"
#include "host/agent_protocol.h"
#include "journal.h"

namespace ilk {

using json = nlohmann::json;

namespace {

class AgentLink : public Link {
public:
    AgentLink(AgentHost& host, int id) : host_(host), id_(id) {}
    ~AgentLink() override { close(); }
    bool send(const json& m) override { return open_ && host_.send_to(id_, m); }
    std::optional<json> receive(std::chrono::milliseconds timeout) override {
        if (!open_) {
            why_ = "channel closed";
            return std::nullopt;
        }
        return host_.next_from(id_, timeout, why_);
    }
    const std::string& why() const override { return why_; }
    bool open() const override { return open_; }
    void close() override {
        if (open_) host_.close_link(id_);
        open_ = false;
    }
    int poll_fd() const override { return host_.poll_fd(); }
    bool has_buffered() const override { return open_ && host_.buffered(id_); }

private:
    AgentHost& host_;
    int id_;
    bool open_ = true;
    std::string why_;
};

json process_json(const ProcessId& p) { return {{"pid", p.pid}, {"start", p.start}}; }

}  // namespace

AgentHost::AgentHost(std::string name, const std::vector<std::string>& command, const Journal* journal,
                     std::chrono::milliseconds timeout)
    : name_(std::move(name)), timeout_(timeout) {
    if (command.empty()) throw std::runtime_error(fmt::format("agent {}: no command to start it", name_));
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error(fmt::format("agent {}: socketpair: {}", name_, std::strerror(errno)));
    try {
        pid_ = exec_child(command, sv[1], journal, {.search_path = true, .die_with_parent = true, .env = {}, .output = {}});  // never outlives the harness
    } catch (const std::exception& e) {
        close(sv[0]);
        close(sv[1]);
        throw std::runtime_error(fmt::format("agent {}: {}", name_, e.what()));
    }
    close(sv[1]);
    stream_ = Channel(sv[0]);
    try {
        say_hello(fmt::format("{}", fmt::join(command, " ")), timeout_);
    } catch (...) {
        end_owner();  // a throwing constructor runs no destructor
        throw;
    }
}

AgentHost::AgentHost(std::string name, int stream, pid_t owner, std::chrono::milliseconds hello_timeout, std::chrono::milliseconds timeout)
    : name_(std::move(name)), stream_(stream), pid_(owner), timeout_(timeout) {
    try {
        say_hello("over its stream", hello_timeout);
    } catch (...) {
        end_owner();  // a throwing constructor runs no destructor
        throw;
    }
}

void AgentHost::say_hello(const std::string& what, std::chrono::milliseconds hello_timeout) {
    const auto saved = timeout_;
    timeout_ = hello_timeout;
    const auto hello = call(agent::op::hello, {{"version", agent::kProtocolVersion}});
    timeout_ = saved;
    if (!hello) throw std::runtime_error(fmt::format("agent {} ({}) did not answer hello: {}", name_, what, error_));
    hello_ = *hello;
}

AgentHost::~AgentHost() {
    if (stream_.open()) {
        const auto saved = timeout_;
        timeout_ = std::chrono::milliseconds(2000);
        call(agent::op::bye, json::object());
        timeout_ = saved;
    }
    end_owner();
}

void AgentHost::end_owner() {
    stream_.close();
    if (pid_ > 0) {
        // Its own child: the PID cannot have been reused before we reap it.
        for (int i = 0; i < 100 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i) usleep(10000);
        if (kill(pid_, 0) == 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        pid_ = -1;
    }
}

void AgentHost::crash() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);  // our own child, not yet reaped: its PID is still ours
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    lost("its host was crashed on purpose (SIGKILL)");
}

void AgentHost::take_over(AgentHost& fresh) {
    if (stream_.open()) throw std::logic_error(fmt::format("agent {} is not gone: nothing to take over", name_));
    std::swap(stream_, fresh.stream_);
    std::swap(pid_, fresh.pid_);
    hello_ = fresh.hello_;
    next_id_ = fresh.next_id_;
    replies_.clear();
    queues_.clear();
    error_.clear();
}

void AgentHost::lost(const std::string& why) {
    error_ = fmt::format("agent {} is gone: {}", name_, why);
    stream_.close();
    for (auto& [id, q] : queues_)
        if (!q.closed) {
            q.closed = true;
            q.why = error_;
        }
}

bool AgentHost::read_one(std::chrono::milliseconds timeout) {
    auto m = stream_.receive(timeout);
    if (!m) {
        if (stream_.why() != "timed out") lost(stream_.why());
        return false;
    }
    if (!m->is_object()) {
        lost(fmt::format("it said something that is no message of the protocol: {}", m->dump().substr(0, 80)));
        return false;
    }
    if (m->contains("id")) {
        const int id = agent::said(*m, "id", 0);  // before the move: json's operator= takes its argument by value
        replies_[id] = std::move(*m);
    } else if (agent::said(*m, "event", "") == "from") {
        queues_[agent::said(*m, "contender", -1)].messages.push_back((*m)["msg"]);
    } else if (agent::said(*m, "event", "") == "closed") {
        Queue& q = queues_[agent::said(*m, "contender", -1)];
        q.closed = true;
        q.why = agent::said(*m, "why", "closed");
    } else if (agent::said(*m, "event", "") == "failed") {
        lost(agent::said(*m, "why", "failed"));
        return false;
    }
    return true;
}

std::optional<json> AgentHost::call(std::string_view op, json args) {
    if (args.contains("id") || args.contains("op"))
        throw std::logic_error(fmt::format("agent request '{}': an argument named 'id' or 'op' is the protocol's own", op));
    if (!stream_.open()) return std::nullopt;
    const int id = next_id_++;
    args["id"] = id;
    args["op"] = op;
    if (!stream_.send(args)) {
        lost("cannot write to it");
        return std::nullopt;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (!replies_.count(id)) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            lost(fmt::format("no answer to '{}' within {} ms", op, timeout_.count()));
            return std::nullopt;
        }
        if (!read_one(left) && !stream_.open()) return std::nullopt;
    }
    json reply = std::move(replies_[id]);
    replies_.erase(id);
    if (!agent::said(reply, "ok", false)) {
        error_ = agent::said(reply, "error", "refused");
        return std::nullopt;
    }
    return reply;
}

json AgentHost::must(std::string_view op, json args) {
    auto r = call(op, std::move(args));
    if (!r) throw std::runtime_error(fmt::format("agent {}: {}: {}", name_, op, error_));
    return *r;
}

SpawnedContender AgentHost::spawn(const SpawnOptions& o) {
    const json r = must(agent::op::spawn, {{"options",
                                            {{"free_running", o.free_running},
                                             {"unshare_flags", o.unshare_flags},
                                             {"uid", o.uid},
                                             {"want_pid", o.want_pid},
                                             {"want_parent_pid", o.want_parent_pid}}}});
    const int id = agent::said(r, "contender", -1);
    queues_[id];
    SpawnedContender out;
    out.link = std::make_unique<AgentLink>(*this, id);
    out.proc = {agent::said(r, "pid", -1), agent::said(r, "start", 0ull)};
    out.parent = {agent::said(r, "parent_pid", -1), agent::said(r, "parent_start", 0ull)};
    return out;
}

std::optional<json> AgentHost::next_from(int id, std::chrono::milliseconds timeout, std::string& why) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        Queue& q = queues_[id];
        if (!q.messages.empty()) {
            json m = std::move(q.messages.front());
            q.messages.pop_front();
            return m;
        }
        if (q.closed) {
            why = q.why.empty() ? "the other end closed the channel" : q.why;
            return std::nullopt;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (!stream_.open()) {
            why = error_;
            return std::nullopt;
        }
        if (!read_one(std::max(left, std::chrono::milliseconds(0)))) {
            if (!stream_.open()) continue;  // the queue is closed now: say so
            if (left.count() <= 0) {
                why = stream_.why() == "interrupted" ? "interrupted" : "timed out";
                return std::nullopt;
            }
        }
    }
}

bool AgentHost::send_to(int id, const json& msg) {
    if (!stream_.open() || queues_[id].closed) return false;
    return stream_.send({{"op", agent::op::to}, {"contender", id}, {"msg", msg}});
}

void AgentHost::close_link(int id) {
    call(agent::op::close, {{"contender", id}});
    queues_.erase(id);
}

bool AgentHost::buffered(int id) const {
    const auto it = queues_.find(id);
    return (it != queues_.end() && (!it->second.messages.empty() || it->second.closed)) || stream_.has_buffered();
}

// Once the agent is gone, everything it started is gone too (its namespaces or
// machine end with it): a process there is no longer alive, and cleaning up
// there has nothing left to do.
bool AgentHost::alive(const ProcessId& p) {
    const auto r = call(agent::op::alive, process_json(p));
    return r && agent::said(*r, "alive", false);
}

void AgentHost::signal(const ProcessId& p, int sig) {
    json args = process_json(p);
    args["sig"] = sig;
    call(agent::op::signal, args);
}

std::vector<ChildProcess> AgentHost::children(const ProcessId& p) {
    std::vector<ChildProcess> out;
    if (const auto r = call(agent::op::children, process_json(p)))
        for (const json& c : agent::said(*r, "children", json::array()))
            out.push_back({{agent::said(c, "pid", -1), agent::said(c, "start", 0ull)}, agent::said(c, "own_pid", -1)});
    return out;
}

void AgentHost::record(const std::string& kind, const std::string& what) { call(agent::op::record, {{"kind", kind}, {"what", what}}); }

void AgentHost::reclaim_segment(const std::string& primitive, long long key, pid_t creator) {
    call(agent::op::reclaim, {{"primitive", primitive}, {"key", key}, {"creator", creator}});
}

PlantedProcess AgentHost::plant_process(pid_t want_pid, uid_t uid, int attach) {
    const json r = must(agent::op::plant_process, {{"want_pid", want_pid}, {"uid", uid}, {"attach", attach}});
    return {{agent::said(r, "pid", -1), agent::said(r, "start", 0ull)}, agent::said(r, "handle", -1)};
}

int AgentHost::planted_signal(const PlantedProcess& p) {
    json args = process_json(p.id);
    args["handle"] = p.handle;
    const auto r = call(agent::op::planted_signal, args);
    return r ? agent::said(*r, "sig", 0) : 0;
}

void AgentHost::remove_planted(const PlantedProcess& p) {
    json args = process_json(p.id);
    args["handle"] = p.handle;
    call(agent::op::remove_planted, args);
}

int AgentHost::plant_segment(long long key) { return agent::said(must(agent::op::plant_segment, {{"key", key}}), "shmid", -1); }

bool AgentHost::segment_intact(int id) {
    const auto r = call(agent::op::segment_intact, {{"shmid", id}});
    return r && agent::said(*r, "intact", false);
}

void AgentHost::remove_planted_segment(int id) { call(agent::op::remove_planted_segment, {{"shmid", id}}); }

std::optional<std::pair<int, pid_t>> AgentHost::segment_on_key(long long key) {
    const json r = must(agent::op::segment_on_key, {{"key", key}});
    if (!agent::said(r, "found", false)) return std::nullopt;
    return std::make_pair(agent::said(r, "shmid", -1), agent::said(r, "creator", -1));
}

json AgentHost::file(const json& request) { return must(agent::op::file, {{"request", request}}); }

}  // namespace ilk

namespace ilk {

AgentHost::RemoteActor AgentHost::actor_spawn() {
    const json r = must(agent::op::actor_spawn, json::object());
    return {agent::said(r, "actor", -1), {agent::said(r, "pid", -1), agent::said(r, "start", 0ull)}};
}

ActorReply AgentHost::actor_call(const RemoteActor& a, const ActorRequest& request, std::chrono::milliseconds timeout) {
    const auto saved = timeout_;
    timeout_ = timeout + std::chrono::seconds(2);  // the agent's own wait, and the way back
    const auto r = call(agent::op::actor_call, {{"actor", a.id}, {"request", to_json(request)}, {"timeout_ms", timeout.count()}});
    timeout_ = saved;
    if (!r) {
        ActorReply failed;
        failed.result = op_fail(OpStatus::error, 0, "agent %s: %s", name_.c_str(), error_.c_str());
        return failed;
    }
    try {
        return reply_from_json(agent::said(*r, "reply", json::object()));
    } catch (const json::exception& e) {  // what it said is data: a reply of the wrong shape is a failed call
        ActorReply failed;
        failed.result = op_fail(OpStatus::error, 0, "agent %s: a reply that is not an actor's: %s", name_.c_str(), e.what());
        return failed;
    }
}

std::string AgentHost::actor_kill(const RemoteActor& a, int sig) {
    const auto r = call(agent::op::actor_kill, {{"actor", a.id}, {"sig", sig}});
    return r ? agent::said(*r, "end", "") : error_;
}

void AgentHost::actor_end(const RemoteActor& a) { call(agent::op::actor_end, {{"actor", a.id}}); }

AgentHost::Ran AgentHost::exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    const auto saved = timeout_;
    timeout_ = timeout + std::chrono::seconds(5);  // the agent ends the program at `timeout`, then answers
    const auto r = call(agent::op::exec, {{"argv", argv}, {"timeout_ms", timeout.count()}});
    timeout_ = saved;
    if (!r) throw std::runtime_error(fmt::format("agent {}: exec {}: {}", name_, argv.empty() ? "" : argv[0], error_));
    return {agent::said(*r, "rc", -1), agent::said(*r, "out", ""), agent::said(*r, "err", "")};
}

}  // namespace ilk
