// A host: where contenders run and whose processes and segments the oracle
// asks about. Everything the harness does to processes and segments — start a
// contender, talk to it at its gates, ask whether a process is alive (PID and
// start time), list its children, signal it, plant an unrelated process or
// segment, reclaim a contender's segment — goes through this interface. The
// local host is today's machine; an agent host is an `ilk agent` reached over
// a byte stream (a child's pipes, a Unix socket, a virtio-serial port), in
// other namespaces or on another kernel.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ilk {

// A process as one host sees it: PID and start time (a reused PID has another
// start time). Once seen gone it stays gone: a PID reused within the same
// clock tick (a scenario does that on purpose) has the same start time.
struct ProcessId {
    pid_t pid = -1;
    unsigned long long start = 0;
    bool seen_gone = false;
};

// What a contender needs from its start (set by the scenario).
struct SpawnOptions {
    bool free_running = false;   // no gates: runs at full speed (stress, scenario set-up)
    int unshare_flags = 0;       // CLONE_NEWPID | CLONE_NEWIPC: start inside new namespaces
    uid_t uid = 0;               // run as this uid (0: as the harness)
    pid_t want_pid = 0;          // make the contender's own PID this one (root)
    pid_t want_parent_pid = 0;   // make its parent's PID this one (root)
};

// The control channel to one contender: newline-delimited JSON messages.
class Link {
public:
    virtual ~Link() = default;
    virtual bool send(const nlohmann::json& message) = 0;
    // The next message, or nullopt on EOF, error, timeout or interrupt (why() says which).
    virtual std::optional<nlohmann::json> receive(std::chrono::milliseconds timeout) = 0;
    virtual const std::string& why() const = 0;
    virtual bool open() const = 0;
    virtual void close() = 0;
    // A descriptor that becomes readable when receive() may have something
    // (several links may share one); has_buffered(): something is waiting already.
    virtual int poll_fd() const = 0;
    virtual bool has_buffered() const = 0;
};

struct SpawnedContender {
    std::unique_ptr<Link> link;
    ProcessId proc;
    ProcessId parent;  // its intermediate parent (namespaces, chosen parent PID); pid -1 if none
};

// A child of a process, and its PID inside its own PID namespace (what the
// process itself reports for it).
struct ChildProcess {
    ProcessId id;
    pid_t own_pid = -1;
};

// An unrelated program planted by a scenario: it reports every catchable
// signal it receives, so the oracle sees collateral damage.
struct PlantedProcess {
    ProcessId id;
    int handle = -1;  // the host's own reference
};

class Host {
public:
    virtual ~Host() = default;
    virtual std::string name() const = 0;  // "local", or the agent's name

    // Start a contender (forked by this host's zygote).
    virtual SpawnedContender spawn(const SpawnOptions& options) = 0;
    // Exists, same start time, not a zombie.
    virtual bool alive(const ProcessId& p) = 0;
    virtual void signal(const ProcessId& p, int sig) = 0;
    virtual std::vector<ChildProcess> children(const ProcessId& p) = 0;
    // Processes running as `uid` that are children of this host's zygote: its
    // contenders, and what they left there when they died (the zygote is
    // their subreaper). Ours by construction; a real server's orphans.
    virtual std::vector<ProcessId> strays(uid_t uid) = 0;
    // A resource a contender is about to create here ("segment <primitive> <key> <creator>"):
    // journaled where this host's resources are undone.
    virtual void record(const std::string& kind, const std::string& what) = 0;
    // Remove a contender's segment again (key and creator must match).
    virtual void reclaim_segment(const std::string& primitive, long long key, pid_t creator) = 0;

    // Unrelated state a scenario plants, checked by the oracle on every step.
    virtual PlantedProcess plant_process(pid_t want_pid, uid_t uid, int attach_segment_id) = 0;
    virtual int planted_signal(const PlantedProcess& p) = 0;  // a signal it received since, or 0
    virtual void remove_planted(const PlantedProcess& p) = 0;
    // A SysV segment on `key` (created by the host itself, journaled); its id.
    virtual int plant_segment(long long key) = 0;
    virtual bool segment_intact(int id) = 0;  // exists and not marked for removal
    virtual void remove_planted_segment(int id) = 0;
    // The id of the segment on `key` and the PID that created it; nullopt if none.
    virtual std::optional<std::pair<int, pid_t>> segment_on_key(long long key) = 0;

    // The files of trials' data directories here: one request of host/files.h
    // and its result. Throws std::runtime_error with the reason.
    virtual nlohmann::json file(const nlohmann::json& request) = 0;
};

}  // namespace ilk
