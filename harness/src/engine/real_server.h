// Real servers as contenders: servers/*.toml, the one key table that reads
// them (and that servers/README.md is held to), and what the harness does
// around a real server's process: its data directory made once and copied
// per trial, its readiness asked with its own client, a session opened whose
// backend outlives a killed server, its log lines kept as evidence.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/server_spec.h"
#include "engine/strategy.h"
#include "toml_entries.h"

namespace ilk {

class Journal;

struct ServerKey {
    using Spec = ServerSpec;
    std::string_view name;
    toml_entries::Field<ServerSpec> field;
    int min = 0, max = 0;
    bool required = false;
    std::string_view default_value = {};
    std::string_view help;
};

inline constexpr ServerKey kServerKeys[] = {
    {.name = "name", .field = &ServerSpec::name, .required = true,
     .help = "the server's name in reports and on the command line (--strategy NAME), unique among strategies"},
    {.name = "source", .field = &ServerSpec::source, .required = true,
     .help = "the program and where its interlock is documented (a source file, a manual)"},
    {.name = "summary", .field = &ServerSpec::summary, .help = "one line for people"},
    {.name = "model", .field = &ServerSpec::model,
     .help = "the kit's strategy modelled on this server: run next to it, and every scenario where the two disagree is a finding"},
    {.name = "package", .field = &ServerSpec::package, .help = "the Debian package that provides it (named in the fix when it is missing)"},
    {.name = "user", .field = &ServerSpec::user, .required = true,
     .help = "the user it runs as: the kit's own (ci/setup.sh makes ilk-server), never root"},
    {.name = "bin_dir", .field = &ServerSpec::bin_dir, .help = "what {bin} stands for in the commands"},
    {.name = "init", .field = &ServerSpec::init, .required = true,
     .help = "make a data directory at {datadir}, once per run; each trial gets a copy"},
    {.name = "start", .field = &ServerSpec::start, .required = true,
     .help = "run the server in the foreground on {datadir}, its port {port} and socket directory {socket_dir}"},
    {.name = "ready", .field = &ServerSpec::ready, .required = true, .help = "exits 0 once the server accepts a session"},
    {.name = "ready_line", .field = &ServerSpec::ready_line,
     .help = "a regular expression (ECMAScript) for the line of its own log that says it accepts sessions: with a shared port, ready alone may hear another server"},
    {.name = "waiting_line", .field = &ServerSpec::waiting_line,
     .help = "a regular expression (ECMAScript) for the line of its own log that says it waits for another server's lock: it is refused from then (the line is the evidence) and stopped, where it would retry for a while"},
    {.name = "session", .field = &ServerSpec::session,
     .help = "open a session whose backend outlives a killed server and writes its PID to {session_pid_file} (none: the server has no backends)"},
    {.name = "stop_signal", .field = &ServerSpec::stop_signal, .default_value = "\"SIGTERM\"",
     .help = "the signal that stops it at once: SIGTERM, SIGINT or SIGQUIT (default \"SIGTERM\")"},
    {.name = "evidence", .field = &ServerSpec::evidence,
     .help = "a regular expression (ECMAScript) for the log lines kept as the evidence of a refusal, only its first group if it has one (default: its last line)"},
    {.name = "pidfile", .field = &ServerSpec::pidfile,
     .help = "the file in the data directory that holds its PID (the pidfile scenarios act on it; none: they do not apply)"},
    {.name = "lock_file", .field = &ServerSpec::lock_file,
     .help = "the file in the data directory it locks or creates as its interlock (lockfile-unlinked deletes it)"},
    {.name = "ready_ms", .field = &ServerSpec::ready_ms, .min = 100, .max = 120000, .default_value = "10000",
     .help = "how long it may take to accept a session (default 10000)"},
    {.name = "shared_port_row", .field = &ServerSpec::shared_port_row, .default_value = "false",
     .help = "also a row NAME+shared-port whose contenders share one port and socket directory: the port as a second interlock (default false)"},
    {.name = "differences", .field = &ServerSpec::differences,
     .help = "where it and its model disagree, and why, one \"SCENARIO: note\" each (the model is wrong, or the server has behaviour the model lacks)"},
};

// Where server files are read from: $ILK_SERVER_PATH (colon-separated), else
// the installed share/ilk/servers, else the source tree's servers/.
std::vector<std::filesystem::path> server_dirs();
// Every [[server]] of the TOML files in dirs; throws "file:line:col: message".
std::vector<ServerSpec> load_servers(const std::vector<std::filesystem::path>& dirs);
// The strategies of a server: NAME (template "server"), and NAME+shared-port
// when it has that row.
std::vector<StrategySpec> server_strategies(const ServerSpec& s);

// The strategies of strategies/*.toml, then those of servers/*.toml (a
// server's name may not be a strategy's). Throws "file:line:col: message".
std::vector<StrategySpec> load_strategies_and_servers();

// A command's argument with {bin}, {datadir}, {port}, {socket_dir} and
// {session_pid_file} replaced.
std::string expand(const std::string& arg, const ServerSpec& s, const std::string& datadir);
// The signal stop_signal names (SIGTERM when empty).
int stop_signal_number(const ServerSpec& s);

// The uid and gid of its user; UnsupportedHere with the fix when there is none, or it is root.
std::pair<uid_t, gid_t> server_user(const ServerSpec& s);

// The run's template data directory of this server, made by its init command
// as its user under the journal's scratch on the first call (per process);
// later calls return it. Throws UnsupportedHere naming the package or the
// user to install when the program cannot run, with init's last lines.
std::filesystem::path server_template(const ServerSpec& s, const Journal& journal);
// A copy of `from` at `to` (which exists, empty), owned by uid:gid, modes kept.
void copy_data_directory(const std::filesystem::path& from, const std::filesystem::path& to, uid_t uid, gid_t gid);

// The environment of every program of a real server (init, start, ready,
// session): its own, never the kit's, so no variable of the operator's
// (PGHOST, TMPDIR, ...) changes what is judged. Its temporary files go to
// `tmp`, a directory of the run's that its user may write.
std::vector<std::string> server_environment(const ServerSpec& s, const std::string& tmp);

// Run argv as uid:gid with `env` (stdin /dev/null, output appended to `log`)
// and wait at most `timeout`; its exit status, or -1 when it was killed at
// the timeout.
int run_as(const std::vector<std::string>& argv, const std::vector<std::string>& env, uid_t uid, gid_t gid, const std::string& log,
           std::chrono::milliseconds timeout);

// Start argv as uid:gid with `env` in the background (its output to `log`),
// journaled as a process of the run; it dies with the forking thread.
pid_t start_as(const std::vector<std::string>& argv, const std::vector<std::string>& env, uid_t uid, gid_t gid, const std::string& log,
               const Journal* journal);

// A file a real server's user may have written (its log, its session's PID
// file), read as data: not through a symlink, only a regular file, at most
// 256 KiB; empty when it is none of that.
std::string read_server_file(const std::string& path);
// Whether its own log has its ready_line (true when it names none).
bool says_ready(const ServerSpec& s, const std::string& log_text);
// Its waiting_line as its log has it (that line's first group, if any), or
// nullopt: the server waits for another's lock. Paths inside `datadir` are
// written relative to it, as in evidence_of.
std::optional<std::string> says_waiting(const ServerSpec& s, const std::string& log_text, const std::string& datadir = "");
// The lines of a server's log that are its evidence (evidence's regex, each
// line's first group if it has one; the last non-empty line when none matches or there is none), joined with " / ".
// Paths inside `datadir` are written relative to it, so that the evidence of
// one trial reads as another's.
std::string evidence_of(const ServerSpec& s, const std::string& log_text, const std::string& datadir = "");
// How much of a log line the expressions see, and of the evidence a cell keeps.
inline constexpr std::size_t kLogLineMatched = 1024;
inline constexpr std::size_t kEvidenceMax = 2000;

}  // namespace ilk
