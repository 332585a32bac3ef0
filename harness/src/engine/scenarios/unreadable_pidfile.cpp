// unreadable-pidfile: A (running under the servers' uid) crashed with
// everything; its pidfile now belongs to another uid, mode 0600, so the next
// server cannot read it. Nothing is alive: a new server should start.
// The pidfile is the strategy's (pidfile_of): its lock file when it holds the PID.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_unreadable_pidfile() {
    return {"unreadable-pidfile", "the pidfile cannot be read by the server's uid", {""}, 1, 0, true,
            [](Trial& t, const std::string&) {
                const std::string pidfile = scenario_util::pidfile_or_not_applicable(t);
                t.crash(scenario_util::start_server(t, {.uid = scenario_util::server_uid(t)}), true);
                t.files().own(pidfile, scenario_util::kOtherUid, 0600);
            },
            [](Trial& t, const std::string&, int) { return SpawnOptions{.uid = scenario_util::server_uid(t)}; }};
}
}  // namespace ilk
