// unreadable-pidfile: A (running under the servers' uid) crashed with
// everything; its pidfile now belongs to another uid, mode 0600, so the next
// server cannot read it. Nothing is alive: a new server should start.
#include <sys/stat.h>
#include <unistd.h>

#include "engine/scenario.h"

namespace ilk {
Scenario scenario_unreadable_pidfile() {
    return {"unreadable-pidfile", "the pidfile cannot be read by the server's uid", {""}, 1, 0, true,
            [](Trial& t, const std::string&) {
                t.crash(scenario_util::start_server(t, {.uid = scenario_util::kServerUid}), true);
                const auto path = t.datadir() / "postmaster.pid";
                if (chown(path.c_str(), scenario_util::kOtherUid, scenario_util::kOtherUid) != 0 || chmod(path.c_str(), 0600) != 0)
                    throw std::runtime_error("cannot make postmaster.pid unreadable");
            },
            [](Trial&, const std::string&, int) { return SpawnOptions{.uid = scenario_util::kServerUid}; }};
}
}  // namespace ilk
