// crash-orphans: A is SIGKILLed but its backends live on, still using the data
// directory; a new server must refuse until they are gone.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_crash_orphans() {
    return {"crash-orphans", "server SIGKILLed, its backends alive; a new one must refuse", {""}, 1, 0, false,
            [](Trial& t, const std::string&) { t.crash(scenario_util::start_server(t), false); }, scenario_util::plain};
}
}  // namespace ilk
