// The keys a [[strategy]] entry may contain. This one table drives the loader
// (which keys are accepted, how each is typed, which are required, where each
// lands in StrategySpec) and is exposed here so a test can hold
// strategies/README.md to it.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/strategy.h"
#include "toml_entries.h"

namespace ilk {

// Where a key's value lands; the alternative held is also the key's TOML type
// (string, boolean, integer), so the type cannot disagree with the field.
using StrategyField = toml_entries::Field<StrategySpec>;

struct StrategyKey {
    using Spec = StrategySpec;
    std::string_view name;  // key inside [[strategy]]
    StrategyField field;
    int min = 0, max = 0;   // integer keys: the accepted range, both ends included
    bool required = false;  // every template needs it
    // Required only by the templates that set this flag (lock, segment); a
    // string key, and an empty string counts as missing.
    bool StrategyTemplate::*needed_by = nullptr;
    std::string_view default_value = {};  // what an absent key means, as TOML writes it; empty: nothing
    std::string_view help;                // one line: the README's "meaning" column without its backticks
};

inline constexpr StrategyKey kStrategyKeys[] = {
    {.name = "name", .field = &StrategySpec::name, .required = true,
     .help = "the strategy's name in reports and on the command line (unique)"},
    {.name = "template", .field = &StrategySpec::template_name, .required = true,
     .help = "legacy-pid, tom-2004, lifetime-lock, pg-current, hybrid, link-lockfile or command"},
    {.name = "source", .field = &StrategySpec::source, .required = true,
     .help = "where the protocol comes from (a message, a file, a man page)"},
    {.name = "summary", .field = &StrategySpec::summary, .help = "one line for people"},
    {.name = "lock", .field = &StrategySpec::lock, .needed_by = &StrategyTemplate::needs_lock,
     .help = "the lock primitive: flock, fcntl, ofd, lockf, or one a plugin adds"},
    {.name = "segment", .field = &StrategySpec::segment, .needed_by = &StrategyTemplate::needs_segment,
     .help = "the segment primitive: sysv, sysv-huge, hugetlbfs"},
    {.name = "startup_lock", .field = &StrategySpec::startup_lock, .default_value = "false",
     .help = "tom-2004: add the second lockfile that exists only during start-up (default false)"},
    {.name = "backends", .field = &StrategySpec::backends, .min = 0, .max = 16, .default_value = "1",
     .help = "children the server starts once running, which inherit its fds and segment (default 1)"},
    {.name = "command", .field = &StrategySpec::command, .needed_by = &StrategyTemplate::needs_command,
     .help = "command: the program and its arguments; {datadir} is replaced by the data directory"},
    {.name = "ready_file", .field = &StrategySpec::ready_file,
     .help = "command: a file (relative to the data directory) whose existence says the server is running"},
    {.name = "settle_ms", .field = &StrategySpec::settle_ms, .min = 0, .max = 60000, .default_value = "100",
     .help = "command: how long the program must live to count as running (default 100)"},
    {.name = "lock_file", .field = &StrategySpec::lock_file, .default_value = "\"postmaster.pid\"",
     .help = "lifetime-lock, link-lockfile: the lock's file in the data directory; \".\" is the directory itself (default \"postmaster.pid\")"},
    {.name = "write_pid", .field = &StrategySpec::write_pid, .default_value = "true",
     .help = "lifetime-lock: write the server's PID into the lock file (into postmaster.pid when the lock is the directory) (default true)"},
    {.name = "lock_wait_ms", .field = &StrategySpec::lock_wait_ms, .min = 0, .max = 1000, .default_value = "0",
     .help = "lifetime-lock: retry a busy lock every 50 ms for this long before refusing (bbolt's timeout) (default 0)"},
    {.name = "stale_ms", .field = &StrategySpec::stale_ms, .min = 0, .max = 3600000, .default_value = "300000",
     .help = "link-lockfile: a lock whose PID is not alive, or older than this when it names none, is stale (default 300000)"},
    {.name = "rechecks", .field = &StrategySpec::rechecks, .min = 0, .max = 8, .default_value = "0",
     .help = "pg-current: how many times a running server re-reads postmaster.pid and shuts down when it is not its own (default 0)"},
    {.name = "recheck_ms", .field = &StrategySpec::recheck_ms, .min = 1, .max = 60000, .default_value = "100",
     .help = "pg-current: the time between rechecks on a free-running schedule (default 100)"},
};

// The key's type as the README's "type" column writes it: "string", "boolean", "integer 0-16".
inline std::string strategy_key_type(const StrategyKey& key) { return toml_entries::key_type(key); }

}  // namespace ilk
