// The scenario table: one entry per scenario file.
#include "engine/scenario.h"

#include <algorithm>

namespace ilk {

Scenario scenario_clean_restart();
Scenario scenario_crash_restart();
Scenario scenario_crash_orphans();
Scenario scenario_pid_reuse();
Scenario scenario_pid_reuse_self();
Scenario scenario_concurrent_start();
Scenario scenario_concurrent_stale();
Scenario scenario_key_collision();
Scenario scenario_corrupt_pidfile();
Scenario scenario_unreadable_pidfile();
Scenario scenario_fd_close();
Scenario scenario_lockfile_unlinked();
Scenario scenario_frozen_holder();
Scenario scenario_container_split();
Scenario scenario_nfs_cross_client();
Scenario scenario_nfs_server_restart();
Scenario scenario_nfs_server_state_loss();
Scenario scenario_nfs_lease_expiry();
Scenario scenario_nfs_client_crash();

const std::vector<Scenario>& scenarios() {
    static const std::vector<Scenario> all{
        scenario_clean_restart(),   scenario_crash_restart(),    scenario_crash_orphans(),
        scenario_pid_reuse(),       scenario_pid_reuse_self(),   scenario_concurrent_start(),
        scenario_concurrent_stale(), scenario_key_collision(),   scenario_corrupt_pidfile(),
        scenario_unreadable_pidfile(), scenario_fd_close(),      scenario_lockfile_unlinked(),
        scenario_frozen_holder(),   scenario_container_split(),
        // Network mounts only (Scenario::network).
        scenario_nfs_cross_client(), scenario_nfs_server_restart(), scenario_nfs_server_state_loss(), scenario_nfs_lease_expiry(),
        scenario_nfs_client_crash(),
    };
    return all;
}

bool scenario_wanted(const std::vector<std::string>& named, const Scenario& s, bool network_target, const std::vector<std::string>& skipped) {
    if (std::find(skipped.begin(), skipped.end(), s.name) != skipped.end()) return false;
    if (named.empty()) return s.network == network_target;
    return std::find(named.begin(), named.end(), s.name) != named.end();
}

const Scenario* find_scenario(std::string_view name) {
    for (const Scenario& s : scenarios())
        if (name == s.name) return &s;
    return nullptr;
}

}  // namespace ilk
