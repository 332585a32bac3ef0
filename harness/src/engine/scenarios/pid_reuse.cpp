// pid-reuse: A crashed with everything; its recorded PID now belongs to an
// unrelated live process (made real with clone3 set_tid / ns_last_pid), of the
// same uid as the servers or of another. Nothing of A is alive: a new server
// must start, and must not signal the stranger.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_pid_reuse() {
    return {"pid-reuse", "the recorded PID now belongs to an unrelated live process", {"same-uid", "other-uid"}, 1, 0, true,
            [](Trial& t, const std::string& variant) {
                Contender& a = scenario_util::start_server(t, {.uid = scenario_util::server_uid(t)});
                const pid_t pid = a.proc.pid;
                t.crash(a, true);
                t.spawn_foreign_process(pid, variant == "same-uid" ? scenario_util::server_uid(t) : scenario_util::kOtherUid);
            },
            [](Trial& t, const std::string&, int) { return SpawnOptions{.uid = scenario_util::server_uid(t)}; }, kReadsPids};
}
}  // namespace ilk
