// pid-reuse-self: the recorded PID is the new starter's own, or its parent's
// (as after a container restart, where the server is PID 1 again).
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_pid_reuse_self() {
    return {"pid-reuse-self", "the recorded PID is the starter's own or its parent's", {"own", "parent"}, 1, 0, true,
            [](Trial& t, const std::string&) {
                Contender& a = scenario_util::start_server(t);
                t.memo["recorded_pid"] = a.proc.pid;
                t.crash(a, true);
            },
            [](Trial& t, const std::string& variant, int) {
                SpawnOptions o;
                (variant == "own" ? o.want_pid : o.want_parent_pid) = static_cast<pid_t>(t.memo["recorded_pid"]);
                return o;
            }, kReadsPids};
}
}  // namespace ilk
