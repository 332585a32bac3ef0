// The scenario table: one entry per scenario file.
#include "engine/scenario.h"

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

const std::vector<Scenario>& scenarios() {
    static const std::vector<Scenario> all{
        scenario_clean_restart(),   scenario_crash_restart(),    scenario_crash_orphans(),
        scenario_pid_reuse(),       scenario_pid_reuse_self(),   scenario_concurrent_start(),
        scenario_concurrent_stale(), scenario_key_collision(),   scenario_corrupt_pidfile(),
        scenario_unreadable_pidfile(), scenario_fd_close(),      scenario_lockfile_unlinked(),
        scenario_frozen_holder(),   scenario_container_split(),
    };
    return all;
}

const Scenario* find_scenario(std::string_view name) {
    for (const Scenario& s : scenarios())
        if (name == s.name) return &s;
    return nullptr;
}

}  // namespace ilk
