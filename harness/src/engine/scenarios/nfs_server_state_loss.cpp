// nfs-server-state-loss: while A (on client A) holds the data directory, the
// NFS server restarts having lost what it knew of its clients: statd's
// monitor list and nfsdcld's client database are wiped (a server whose
// /var/lib/nfs did not survive). No NLM client is told to reclaim, and the
// server refuses NFSv4 reclaims from clients it has no record of. Then B
// starts on client B.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_nfs_server_state_loss() {
    return {.name = "nfs-server-state-loss",
            .summary = "the NFS server restarts without its records of its clients while A holds the directory",
            .variants = {""},
            .starters = 1,
            .faults = 0,
            .needs_root = false,
            .setup =
                [](Trial& t, const std::string&) { scenario_util::start_server_in_lab(t); },
            .starter = scenario_util::plain,
            .network = true,
            .event =
                [](LabControl& lab, const std::string&, const std::vector<Trial*>& trials) {
                    scenario_util::lab_event_all(trials, lab.restart_server(true, true));
                },
            .settle = scenario_util::wait_a_lease,
            .after = scenario_util::observe_holders};
}
}  // namespace ilk
