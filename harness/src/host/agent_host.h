// A host reached through an `ilk agent` over one byte stream. The agent may
// run in other namespaces (a container on the same volume), or in a QEMU
// guest with another kernel. What it says is data: its PIDs are its own, and
// nothing it sends is acted on here beyond the stream itself.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "actor.h"
#include "engine/channel.h"
#include "host/host.h"

namespace ilk {

class Journal;

class AgentHost : public Host {
public:
    // Start `command` (argv; its last words are typically `ilk agent --fd 3`)
    // with one end of a socket pair as its fd 3, journal it, and say hello.
    // Throws std::runtime_error naming the command and the cause.
    AgentHost(std::string name, const std::vector<std::string>& command, const Journal* journal,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // An agent already reached over `stream` (a connected socket, taken over),
    // run by our child process `owner` (ended after bye, as above; -1: none).
    // hello_timeout: how long it may take to answer at all (a guest boots first).
    AgentHost(std::string name, int stream, pid_t owner, std::chrono::milliseconds hello_timeout,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));
    ~AgentHost() override;  // bye, then the agent process is ended

    std::string name() const override { return name_; }
    // The agent's whole host dies at once (a client crash): its owner process,
    // our own child (a guest's QEMU), is SIGKILLed and reaped, unannounced.
    void crash();
    // After a crash: become `fresh` (an agent on the new boot of the same
    // host), which is left gone. Processes of the old boot are not alive here.
    void take_over(AgentHost& fresh);
    const nlohmann::json& hello() const { return hello_; }
    bool gone() const { return !stream_.open(); }

    SpawnedContender spawn(const SpawnOptions& options) override;
    bool alive(const ProcessId& p) override;
    void signal(const ProcessId& p, int sig) override;
    std::vector<ChildProcess> children(const ProcessId& p) override;
    std::vector<ProcessId> strays(uid_t) override { return {}; }  // real servers run on the local host only
    void record(const std::string& kind, const std::string& what) override;
    void reclaim_segment(const std::string& primitive, long long key, pid_t creator) override;
    PlantedProcess plant_process(pid_t want_pid, uid_t uid, int attach_segment_id) override;
    int planted_signal(const PlantedProcess& p) override;
    void remove_planted(const PlantedProcess& p) override;
    int plant_segment(long long key) override;
    bool segment_intact(int id) override;
    void remove_planted_segment(int id) override;
    std::optional<std::pair<int, pid_t>> segment_on_key(long long key) override;
    nlohmann::json file(const nlohmann::json& request) override;

    // Actors on the agent's host (probe facts across hosts): each call is one
    // request and its reply; a failed agent gives an error reply, never a throw.
    struct RemoteActor {
        int id = -1;
        ProcessId proc;
    };
    RemoteActor actor_spawn();
    ActorReply actor_call(const RemoteActor& a, const ActorRequest& request, std::chrono::milliseconds timeout);
    std::string actor_kill(const RemoteActor& a, int sig);
    void actor_end(const RemoteActor& a);

    // Run argv on the agent's host (agent_protocol.h, op exec) and wait up to
    // `timeout` for its end. Throws naming the agent when it cannot answer.
    struct Ran {
        int rc = -1;  // exit code; -1 killed at the timeout, 128+N killed by signal N
        std::string out, err;
    };
    Ran exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

    // For its links: the next message of contender `id`, waiting up to timeout.
    std::optional<nlohmann::json> next_from(int id, std::chrono::milliseconds timeout, std::string& why);
    bool send_to(int id, const nlohmann::json& msg);
    void close_link(int id);
    bool buffered(int id) const;
    int poll_fd() const { return stream_.fd(); }

private:
    // A request and its reply; nullopt when the agent is gone or refused
    // (error_ says why). Events read meanwhile are queued for their links.
    std::optional<nlohmann::json> call(std::string_view op, nlohmann::json args);
    nlohmann::json must(std::string_view op, nlohmann::json args);  // throws with the agent's words
    bool read_one(std::chrono::milliseconds timeout);  // one message from the stream, dispatched
    void lost(const std::string& why);
    void say_hello(const std::string& what, std::chrono::milliseconds hello_timeout);
    void end_owner();  // close the stream; end and reap the owner process

    std::string name_;
    Channel stream_;
    pid_t pid_ = -1;
    std::chrono::milliseconds timeout_;
    nlohmann::json hello_;
    int next_id_ = 1;
    std::map<int, nlohmann::json> replies_;
    struct Queue {
        std::deque<nlohmann::json> messages;
        bool closed = false;
        std::string why;
    };
    std::map<int, Queue> queues_;
    std::string error_;
};

}  // namespace ilk
