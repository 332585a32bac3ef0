// crash-restart: A and its backends are SIGKILLed; nothing is left alive, so a new server must start.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_crash_restart() {
    return {"crash-restart", "server and backends SIGKILLed; a new one must start", {""}, 1, 0, false,
            [](Trial& t, const std::string&) { t.crash(scenario_util::start_server(t), true); }, scenario_util::plain};
}
}  // namespace ilk
