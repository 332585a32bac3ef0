// clean-restart: A shuts down cleanly; a new server must start.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_clean_restart() {
    return {"clean-restart", "the server shut down cleanly; a new one must start", {""}, 1, 0, false,
            [](Trial& t, const std::string&) { t.command(scenario_util::start_server(t), "shutdown"); },
            scenario_util::plain};
}
}  // namespace ilk
