// A real server as a contender: its program, described by a [[server]] entry
// of servers/*.toml (keys: engine/real_server.h). It becomes a strategy of
// its own (template "server"), named on the command line like the others.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ilk {

struct ServerSpec {
    std::string name;       // "postgresql-15": the strategy's name
    std::string source;     // the program and where its interlock is documented
    std::string summary;
    std::string model;      // the kit's strategy modelled on it ("pg-current"): shown next to it
    std::string package;    // the Debian package that provides it (for the fix when it is missing)
    std::string user;       // the user it runs as (the kit's own; many servers refuse root)
    std::string bin_dir;    // {bin} in the commands
    // Commands ({bin}, {datadir}, {port}, {socket_dir}, {session_pid_file} replaced):
    std::vector<std::string> init;     // make a data directory once; trials get copies of it
    std::vector<std::string> start;    // run the server in the foreground on {datadir}
    std::vector<std::string> ready;    // exits 0 once the server accepts a session
    std::string ready_line;            // ECMAScript regex: a line of its own log saying so (empty: ready alone)
    std::string waiting_line;          // ECMAScript regex: a line of its own log saying it waits for another's lock
    std::vector<std::string> session;  // a session whose backend outlives a killed server, writing its PID to {session_pid_file}
    std::string stop_signal = "SIGTERM";  // how its users stop it at once
    std::string evidence;   // ECMAScript regex: the log lines kept as a refusal's evidence (empty: the last line)
    std::string pidfile;    // the file in the data directory that holds its PID (empty: none)
    std::string lock_file;  // the file it locks or creates as its interlock (lockfile-unlinked deletes it)
    int ready_ms = 10000;   // how long it may take to accept a session
    bool shared_port_row = false;  // also NAME+shared-port: every contender on one port and socket directory
    bool shared_port = false;      // this row's contenders share one port and socket directory
    // Where the server and its model are known to disagree, and why: "SCENARIO: note".
    std::vector<std::string> differences;
    std::string where;      // file:line

    // Per contender, set by the trial before it starts (not in files).
    struct Place {
        std::string socket_dir, log, session_pid_file;
        int port = 0;
    } place;
};

void to_json(nlohmann::json& j, const ServerSpec& s);
void from_json(const nlohmann::json& j, ServerSpec& s);

}  // namespace ilk
