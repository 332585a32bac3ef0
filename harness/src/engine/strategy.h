// A strategy: an interlock protocol built from primitives. Templates are C++
// (engine/strategies/*.cpp, one file each); a strategy is a template plus
// parameters, defined in strategies/*.toml so users add their own without code.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/server_spec.h"

namespace ilk {

struct StrategySpec {
    std::string name;          // "tom-2004+startup-lock"
    std::string template_name; // "tom-2004"
    std::string summary;
    std::string source;        // where the protocol comes from
    std::string lock;          // lock primitive (lifetime-lock, hybrid)
    std::string segment;       // segment primitive (tom-2004, pg-current, hybrid)
    bool startup_lock = false; // tom-2004: the second lockfile that exists only during startup
    int backends = 1;          // children started once running (one is enough to be an orphan)
    // The `command` template: a real program as the server ({datadir} in an
    // argument is replaced), running once it has lived settle_ms and
    // ready_file (relative to the data directory), if named, exists.
    std::vector<std::string> command;
    std::string ready_file;
    int settle_ms = 100;
    // lifetime-lock, link-lockfile: the file the lock is (relative to the data
    // directory; "." is the data directory itself, opened O_RDONLY|O_DIRECTORY);
    // lifetime-lock: whether the server writes its PID there (link-lockfile always does) (into postmaster.pid, for people,
    // when the lock is the directory), and how long it retries a busy lock
    // (every 50 ms, as bbolt does; 0: refuse at once).
    std::string lock_file = "postmaster.pid";
    bool write_pid = true;
    int lock_wait_ms = 0;
    // link-lockfile: a lock older than this, whose PID is not alive or
    // unreadable, is stale (liblockfile: 5 minutes).
    int stale_ms = 300000;
    // pg-current: how many times a running server re-reads postmaster.pid and
    // shuts down when it is gone or names another PID (PostgreSQL: once a
    // minute, for its whole life; the model takes this many rechecks, each a
    // step of its own), and how long apart on a free-running schedule.
    int rechecks = 0;
    int recheck_ms = 100;
    // The `server` template: a real server, from a [[server]] of servers/*.toml.
    std::optional<ServerSpec> server;
    std::string where;         // file:line of the definition
};
// Where a `command` server's output goes, in its data directory: its last
// line is the evidence of a refusal.
inline constexpr const char* kCommandLog = "ilk-command.log";

// The file a scenario treats as the strategy's pidfile (corrupts it, makes it
// unreadable): its lock file when the PID is written there, postmaster.pid
// otherwise; empty when it writes no PID anywhere.
std::string pidfile_of(const StrategySpec& s);

void to_json(nlohmann::json& j, const StrategySpec& s);
void from_json(const nlohmann::json& j, StrategySpec& s);

class Server;
struct StartResult {
    bool running = false;
    std::string why;  // refused: the strategy's own words
};
using StrategyFn = StartResult (*)(Server&);

// What of the shared state a template ever looks at, besides its files. A
// scenario that only changes what a template never reads cannot change its
// verdict, so when such a scenario cannot be staged here it does not matter
// for that strategy's cell. The server enforces the declaration: a gated
// step outside it is the kit's ERROR.
enum TemplateReads : unsigned {
    kReadsPids = 1u << 0,      // kill(pid, 0) on a recorded PID
    kReadsSegments = 1u << 1,  // looks up, attaches, counts or removes segments
};

struct StrategyTemplate {
    const char* name;
    const char* summary;
    bool needs_lock;
    bool needs_segment;
    bool needs_command = false;  // the `command` template: a real program, observed from outside
    unsigned reads;  // TemplateReads
    StrategyFn start;
    bool server_files_only = false;  // `server`: made from servers/*.toml, never named in a strategy file
};
const std::vector<StrategyTemplate>& strategy_templates();
const StrategyTemplate* find_template(std::string_view name);

// Load every [[strategy]] of the TOML files in dirs (strategies/ by default).
// Throws ProfileError-style std::runtime_error "file:line:col: message".
std::vector<StrategySpec> load_strategies(const std::vector<std::filesystem::path>& dirs);
std::vector<std::filesystem::path> strategy_dirs();

}  // namespace ilk
