// One trial: a fresh data directory, a scenario's planted state, contenders
// (real `ilk contender` processes) driven step by step, and the oracle checked
// after every step.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/strategy.h"
#include "host/files.h"
#include "host/host.h"
#include "host/lab_control.h"

namespace ilk {

class Registry;
class Journal;

// primitive name -> the plugin library that provides it.
nlohmann::json plugin_libraries(const Registry& registry);

// What every trial of a run shares.
struct TrialEnv {
    const Registry* registry = nullptr;
    const Journal* journal = nullptr;
    std::filesystem::path workdir;            // trials make their data directories here (as the host of A sees it)
    // Where a host sees `workdir`, by host name, when not at the same path (the
    // target's view per host: an NFS export mounted on each client, say).
    std::map<std::string, std::filesystem::path> views;
    Host* host = nullptr;                     // where contenders run, unless placed elsewhere
    std::map<std::string, Host*> placement;   // contender name ("B") -> another host; L goes where B does
    std::chrono::milliseconds step_timeout{3000};
    LabControl* lab = nullptr;                // a network mount's lab; null elsewhere
    Host& host_for(const std::string& contender) const;
    std::filesystem::path workdir_on(const Host& host) const;
};

// What a step touches, as the contender announced it at its gate: the
// explorer's partial-order reduction treats two steps of different
// contenders as commuting when neither is global and they share no object,
// or both only read. A crash of a contender at its gate touches its PID and
// what it wrote before (the locks it held go with it).
struct Access {
    std::vector<std::string> on;  // "file:NAME", "pids", "segments"; empty: anything (a step that ended a contender)
    bool write = true;
    bool global() const { return on.empty(); }
    bool independent_of(const Access& o) const {
        if (global() || o.global()) return false;
        if (!write && !o.write) return true;
        for (const auto& x : on)
            if (std::find(o.on.begin(), o.on.end(), x) != o.on.end()) return false;
        return true;
    }
};

struct Contender {
    std::string name;  // "A", "B", ...
    Host* host = nullptr;
    ProcessId proc;
    ProcessId parent;  // its intermediate parent (namespaces, chosen parent PID), if any
    std::unique_ptr<Link> link;
    enum class State { at_gate, running, refused, error, crashed } state = State::at_gate;
    std::string gate;                  // step it waits at
    Access next;                       // what that step touches (its announcement)
    bool changed = true;               // its last step may have changed what it touched (false: it failed, and only read)
    std::string why;                   // refused/error: its words
    std::vector<ProcessId> backends;   // the children it started as backends, and only those
    std::vector<ProcessId> others;     // its other children (a primitive's helper, say): never hold for it
    nlohmann::json transcript = nlohmann::json::array();  // {"step", "saw", "t"}
    int running_at = -1;               // decision index at which it reached RUNNING
    std::chrono::steady_clock::time_point running_since{};
    bool external = false;             // a real program (the command template): its state is observed from outside
    ServerSpec::Place place;           // a real server (the server template): its socket directory, log, session's PID file
    bool alive(ProcessId& p) const;    // on its host; once seen gone, gone for good
    bool holds();                      // running, or crashed with live backends
    bool enabled() const { return state == State::at_gate; }
    // A running server that takes steps of its own (a recheck of its pidfile)
    // waits at a gate while it holds: it can move unless frozen.
    bool step_pending = false;
    bool frozen = false;
    bool can_step() const { return enabled() || (state == State::running && step_pending && !frozen); }
};

// Thrown when a scenario cannot be staged here (reason says why and the fix):
// the cell becomes UNSUPPORTED, not ERROR.
struct UnsupportedHere : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The oracle's finding.
struct Violation {
    std::string kind;         // "exclusion", "collateral", "liveness", "error"
    std::string explanation;  // one paragraph for people
    // Exclusion on a network mount (a scenario that asks its holders): how
    // long two servers ran at once before the trial ended, what the first
    // holder saw of it, and whether it was never told (no error on its I/O,
    // nothing in its client's kernel log).
    double exposure_ms = -1;  // -1: not measured
    // A strategy whose running servers recheck: how many of their steps it
    // took until one of the two shut down (-1: not measured, or none did).
    int exposure_steps = -1;
    std::string holder_saw{};
    bool never_told = false;
    std::chrono::steady_clock::time_point since{};  // when the second reached RUNNING (not kept in files)
};

class Trial {
public:
    Trial(const TrialEnv& env, const StrategySpec& strategy, int index);
    ~Trial();  // kills what is left and removes the data directory
    Trial(const Trial&) = delete;

    // The data directory, as the host of A (which makes, reads and removes it) sees it.
    const std::filesystem::path& datadir() const { return dir_.path(); }
    const HostDir& files() const { return dir_; }
    const StrategySpec& strategy() const { return strategy_; }
    const TrialEnv& env() const { return env_; }

    // Start a contender; unless wait is false, read its messages until its first gate or its end.
    Contender& spawn(const std::string& name, const SpawnOptions& options = {}, bool wait = true);
    // Free-running contenders: serve them all (journal requests) until each has finished.
    void run_free_to_end();
    std::vector<std::unique_ptr<Contender>>& contenders() { return contenders_; }
    Contender* find(const std::string& name);
    // Run contender `name` on `host` in this trial, wherever the run places it
    // (a scenario that needs two starters on different clients).
    void place(const std::string& name, Host& host) { placed_[name] = &host; }
    Host& host_for(const std::string& name) const;

    // Let a contender run its next step (it then waits at the next gate, or finishes).
    void advance(Contender& c);
    // Run a contender to the end of its start-up (set-up phases).
    void run_to_end(Contender& c);
    // SIGKILL the contender (and, if asked, its backends), and reap.
    void crash(Contender& c, bool with_backends);
    void freeze(Contender& c);  // SIGSTOP
    int holders();              // how many contenders hold the directory now
    // A host died whole (a client's guest killed): every process of ours there
    // is gone for good, whatever a later boot of it reuses.
    void host_died(Host& h);
    // "shutdown", "touch-lockfile", "observe" (its transcript says what it saw);
    // waits up to `timeout` for its answer (zero: the step timeout).
    bool command(Contender& c, const std::string& cmd, std::chrono::milliseconds timeout = {});
    int decisions() const { return decisions_; }
    double seconds() const;  // since the trial began

    // Collateral: things planted as someone else's (on the host of A), checked on every step.
    // A segment on `key`, made by the kit; its id.
    int plant_foreign_segment(long long key);
    // An unrelated program: sleeps, reports signals it gets, optionally attached to a segment.
    pid_t spawn_foreign_process(pid_t want_pid, uid_t uid, int attach_shmid = -1);
    Host& planting_host() const { return host_for("A"); }

    // The oracle: exclusion and collateral now; liveness at the end.
    std::optional<Violation> check();
    // The lone starter is started as the scenario starts its own (same uid,
    // namespaces, chosen PID): the situation is theirs, only alone.
    std::optional<Violation> check_liveness(const SpawnOptions& lone);

    nlohmann::json transcript() const;

    // Scenario state carried from set-up to the starters' spawn options.
    std::map<std::string, long long> memo;

private:
    void pump(Contender& c);  // read messages until the next gate or the end
    bool handle(Contender& c, const nlohmann::json& m);  // one message; true when c stopped (gate or end)
    void lost(Contender& c);  // the channel failed: hung or died
    void reap(Contender& c);
    void wait_gone(Contender& c, ProcessId& p);
    void mark_running(Contender& c);  // it holds the directory from this decision on
    std::string survivors_text() const;
    void adopt_children(Contender& c, const nlohmann::json& reported_backends);
    void observe_external(Contender& c);
    bool command_external(Contender& c, const std::string& cmd);
    // A real server: its data directory and the spawn made ready for it, its
    // readiness asked, its session opened (engine/real_server.h).
    void prepare_server(Contender& c, SpawnOptions& o, StrategySpec& spec);
    void observe_server(Contender& c);
    void open_session(Contender& c);
    // One of its commands (ready, session) with contender c's place filled in.
    std::vector<std::string> server_command(const Contender& c, const std::vector<std::string>& args) const;

    const TrialEnv& env_;
    StrategySpec strategy_;
    HostDir dir_;
    std::map<std::string, Host*> placed_;
    nlohmann::json libraries_;
    std::vector<std::unique_ptr<Contender>> contenders_;
    std::vector<PlantedProcess> foreign_processes_;
    std::vector<int> foreign_segments_;
    struct OwnSegment {
        Host* host;
        std::string primitive;
        long long key;
        pid_t creator;
    };
    std::vector<OwnSegment> segments_;  // journaled by contenders
    // Real servers: whether the data directory holds its copy yet, its user, the
    // sessions' clients (children of this process), the server processes
    // whose segments are removed at the end, and their socket directories.
    bool server_data_ = false;
    uid_t server_uid_ = 0;  // its user, once a contender of it was prepared (0: none was)
    gid_t server_gid_ = 0;
    std::vector<pid_t> sessions_;
    std::vector<pid_t> server_creators_;
    std::vector<std::filesystem::path> socket_dirs_;
    int decisions_ = 0;
    std::chrono::steady_clock::time_point began_ = std::chrono::steady_clock::now();
};

}  // namespace ilk
