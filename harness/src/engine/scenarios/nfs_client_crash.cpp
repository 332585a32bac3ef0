// nfs-client-crash: A runs on client A, with its backends, and client A's
// whole guest is killed (its kernel's NFS state with it) while the server
// stays up; B starts on client B at once. The NFSv4 server keeps A's locks
// until A's lease runs out; an NLM server keeps them until client A reboots
// and its statd tells the server (SM_NOTIFY). The oracle's liveness asks a
// lone starter once that time has passed: "lease" one and a half leases
// later, client A still down; "reboot" once client A is up again.
#include "engine/scenario.h"

#include <fmt/format.h>

namespace ilk {
Scenario scenario_nfs_client_crash() {
    return {.name = "nfs-client-crash",
            .summary = "client A's whole guest is killed while A runs there; B starts on client B; when can a server start again?",
            .variants = {"lease", "reboot"},
            .starters = 1,
            .faults = 0,
            .needs_root = false,
            .setup = [](Trial& t, const std::string&) { scenario_util::start_server_in_lab(t); },
            .starter = scenario_util::plain,
            .network = true,
            .event =
                [](LabControl& lab, const std::string&, const std::vector<Trial*>& trials) {
                    scenario_util::lab_event_all(trials, lab.crash_client(0));
                    for (Trial* t : trials) t->host_died(t->host_for("A"));
                },
            .settle =
                [](LabControl& lab, const std::string& variant, const std::vector<Trial*>& trials) {
                    if (variant == "reboot") {
                        scenario_util::lab_event_all(trials, lab.reboot_client(0));
                    } else {
                        scenario_util::pause_for(lab.lease() * 3 / 2);
                        scenario_util::lab_event_all(trials, fmt::format("{} s passed, client A still down", (lab.lease() * 3 / 2).count()));
                    }
                }};
}
}  // namespace ilk
