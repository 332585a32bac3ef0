// nfs-cross-client: the data directory on an NFS export, servers on two of its
// clients. "running": A runs on client A, then B starts on client B.
// "at-once": two starters, B on client A and C on client B, their steps
// interleaved. "crashed-with-backends": A crashed on client A with its
// backends alive there, then B starts on client B. What a strategy checks on
// its own host only (a PID, a SysV segment) says nothing of the other client.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_nfs_cross_client() {
    return {.name = "nfs-cross-client",
            .summary = "servers on two NFS clients: one running, both starting, or one crashed with live backends",
            .variants = {"running", "at-once", "crashed-with-backends"},
            .starters = 1,
            .faults = 1,
            .needs_root = false,
            .setup =
                [](Trial& t, const std::string& variant) {
                    scenario_util::lab(t);
                    if (variant == "running") scenario_util::start_server(t);
                    if (variant == "crashed-with-backends") t.crash(scenario_util::start_server(t), false);
                    if (variant == "at-once") t.place("B", t.host_for("A"));  // C goes where the run puts starters: client B
                },
            .starter = scenario_util::plain,
            .network = true,
            .starters_in = [](const std::string& variant) { return variant == "at-once" ? 2 : 1; }};
}
}  // namespace ilk
