// fd-close: inside the running server another part of the program opens and
// closes the lockfile (a backup tool, a log reader). The server must still hold it.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_fd_close() {
    return {"fd-close", "the running server opens and closes its lockfile elsewhere in the program", {""}, 1, 0, false,
            [](Trial& t, const std::string&) { t.command(scenario_util::start_server(t), "touch-lockfile"); },
            scenario_util::plain};
}
}  // namespace ilk
