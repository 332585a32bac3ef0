// nfs-lease-expiry: client A, where A holds the data directory, is cut off
// from the NFS server (its only link down) for one and a half leases; then B
// starts on client B. The NFSv4 server expires A's lease (a courteous server
// keeps A's state until B's request conflicts with it); NLM has no lease: the
// server keeps A's lock. Then A's link comes back, A's client finds its
// lease gone, and A is asked what it sees. With nfs.recover_lost_locks=0 (the
// default) the client gives the lost lock up and fails I/O on it with EIO;
// with 1 it asks for the lock again, as if new.
#include "engine/scenario.h"

#include <fmt/format.h>

namespace ilk {
namespace {
bool recover(const std::string& variant) { return variant == "recover_lost_locks=1"; }
}  // namespace

Scenario scenario_nfs_lease_expiry() {
    return {.name = "nfs-lease-expiry",
            .summary = "client A is cut off from the NFS server past its lease while A runs; B starts; A's link comes back",
            .variants = {"recover_lost_locks=0", "recover_lost_locks=1"},
            .starters = 1,
            .faults = 0,
            .needs_root = false,
            .setup = [](Trial& t, const std::string&) { scenario_util::start_server_in_lab(t); },
            .starter = scenario_util::plain,
            .network = true,
            .event =
                [](LabControl& lab, const std::string& variant, const std::vector<Trial*>& trials) {
                    scenario_util::lab_event_all(trials, lab.set_recover_lost_locks(0, recover(variant)));
                    scenario_util::lab_event_all(trials, lab.set_link(0, false));
                    scenario_util::pause_for(lab.lease() * 3 / 2);
                    scenario_util::lab_event_all(trials, fmt::format("{} s passed", (lab.lease() * 3 / 2).count()));
                },
            // A's client renews within a lease of its link coming back, and finds out then.
            .settle =
                [](LabControl& lab, const std::string& variant, const std::vector<Trial*>& trials) {
                    scenario_util::lab_event_all(trials, lab.set_link(0, true));
                    scenario_util::wait_a_lease(lab, variant, trials);
                },
            .after = scenario_util::observe_holders};
}
}  // namespace ilk
