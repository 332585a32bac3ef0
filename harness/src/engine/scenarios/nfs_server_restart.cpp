// nfs-server-restart: while A (on client A) holds the data directory, the NFS
// server restarts: nfsd stopped and started, which drops every lock it
// granted. NFSv4 clients find out at their next lease renewal and reclaim
// their locks in the server's grace period; NFSv3 (NLM) clients reclaim only
// when sm-notify tells them ("notify"), and not otherwise ("no-notify").
// Then B starts on client B, in the grace period: a lock it asks for waits
// for the grace to end, when A's reclaim is in. Is A's lock still A's?
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_nfs_server_restart() {
    return {.name = "nfs-server-restart",
            .summary = "the NFS server restarts while A holds the directory; B starts in its grace period",
            .variants = {"notify", "no-notify"},
            .starters = 1,
            .faults = 0,
            .needs_root = false,
            .setup =
                [](Trial& t, const std::string&) { scenario_util::start_server_in_lab(t); },
            .starter = scenario_util::plain,
            .network = true,
            .event =
                [](LabControl& lab, const std::string& variant, const std::vector<Trial*>& trials) {
                    scenario_util::lab_event_all(trials, lab.restart_server(variant == "notify", false));
                },
            .settle = scenario_util::wait_a_lease,
            .after = scenario_util::observe_holders};
}
}  // namespace ilk
