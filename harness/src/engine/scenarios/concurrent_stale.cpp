// concurrent-stale: N starters on the stale leftovers of a crashed server —
// the race Tom Lane describes at step 7 of the seed thread.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_concurrent_stale() {
    return {"concurrent-stale", "N starters on a crashed server's stale pidfile and segment", {"2", "3"}, 0, 2, false,
            [](Trial& t, const std::string&) { t.crash(scenario_util::start_server(t), true); }, scenario_util::plain};
}
}  // namespace ilk
