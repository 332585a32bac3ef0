// An actor is a real child process that performs primitive operations on
// command, so probes can arrange exactly who holds what: open a file, take a
// lock, fork a child that inherits everything, attach a segment, be killed.
// Commands travel over a SOCK_SEQPACKET socketpair, one request, one reply.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ilk/plugin.h"

namespace ilk {

class Registry;
class Journal;

enum class ActorCmd : std::uint32_t {
    open_file,      // path, flags -> fd
    close_fd,       // fd
    lock,           // primitive, fd, wait -> result
    unlock,         // primitive, fd
    query,          // primitive, fd -> ok (free) / busy (held elsewhere)
    fork_actor,     // -> a new actor that inherits every fd, lock and mapping (pid; channel by SCM_RIGHTS)
    seg_create,     // primitive, key, size -> ref
    seg_lookup,     // primitive, key -> ref
    seg_attach,     // primitive, ref -> attached (kept until detach/exit)
    seg_detach,     // primitive, ref
    seg_count,      // primitive, ref -> count
    seg_remove,     // primitive, ref
    kill0,          // pid -> errno of kill(pid, 0) (0 if it succeeded)
    set_uid,        // uid: setresgid/setresuid (only as root)
    exit_now,       // _exit(0)
};

struct ActorRequest {
    ActorCmd cmd;
    std::int32_t fd = -1;
    std::int32_t arg = 0;  // open flags, wait flag, pid, uid
    std::int64_t key = 0;
    std::uint64_t size = 0;
    char primitive[32] = {};
    char path[512] = {};
    SegmentRef ref{};
};

struct ActorReply {
    OpResult result{};
    std::int64_t value = 0;  // fd, count, pid, errno
    SegmentRef ref{};
};

class Actor {
public:
    // Fork a new actor. Its pid is journaled as a process of the run, when a
    // journal is given (an agent has none: its namespaces end with it).
    static Actor spawn(const Registry& registry, const Journal& journal) { return spawn(registry, &journal); }
    static Actor spawn(const Registry& registry, const Journal* journal);

    Actor() = default;
    Actor(Actor&& o) noexcept;
    Actor& operator=(Actor&& o) noexcept;
    ~Actor();  // kills and reaps the process if still there

    pid_t pid() const { return pid_; }
    bool alive() const { return channel_ >= 0; }

    // Send one request and wait for its reply. On timeout, the reply has
    // status error and message "timed out"; on the actor's death, "actor died: <signal>".
    ActorReply call(const ActorRequest& req, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
    // Send without waiting (a blocking lock); collect with wait_reply().
    bool send(const ActorRequest& req);
    ActorReply wait_reply(std::chrono::milliseconds timeout);

    // Convenience wrappers.
    int open(const std::string& path, int flags);
    OpResult close_fd(int fd);
    OpResult lock(const std::string& primitive, int fd, bool wait = false);
    OpResult unlock(const std::string& primitive, int fd);
    OpResult query(const std::string& primitive, int fd);
    Actor fork_child(const Journal& journal);

    void kill_now(int sig = SIGKILL);  // signal and, for our own children, reap
    // How the process ended, once it has ("killed by SIGSEGV"); empty while alive.
    const std::string& end() const { return end_; }

private:
    Actor(pid_t pid, int channel, bool own_child) : pid_(pid), channel_(channel), own_child_(own_child) {}
    void reap(bool block);
    pid_t pid_ = -1;
    int channel_ = -1;
    bool own_child_ = false;  // forked by the harness (waitpid works) or by another actor
    std::string end_;
};

// Requests and replies as JSON, for actors on another host (agent_protocol.h).
nlohmann::json to_json(const ActorRequest& r);
ActorRequest request_from_json(const nlohmann::json& j);
nlohmann::json to_json(const ActorReply& r);
ActorReply reply_from_json(const nlohmann::json& j);

// The loop an actor process runs; never returns.
[[noreturn]] void actor_main(const Registry& registry, int channel);

}  // namespace ilk
