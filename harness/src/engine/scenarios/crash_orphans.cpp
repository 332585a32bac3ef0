// crash-orphans: A is SIGKILLed but its backends live on, still using the data
// directory; a new server must refuse until they are gone.
#include <fmt/format.h>

#include "engine/scenario.h"

namespace ilk {
Scenario scenario_crash_orphans() {
    return {"crash-orphans", "server SIGKILLed, its backends alive; a new one must refuse", {""}, 1, 0, false,
            [](Trial& t, const std::string&) {
                if (const auto& s = t.strategy().server; s && s->session.empty())
                    throw UnsupportedHere(fmt::format("does not apply: {} has no backend processes (its sessions are threads of its one "
                                                      "process), so nothing of it outlives a SIGKILL; crash-restart is its crash",
                                                      s->name));
                t.crash(scenario_util::start_server(t), false);
            },
            scenario_util::plain};
}
}  // namespace ilk
