// frozen-holder: the running server is SIGSTOPped (a debugger, a frozen VM).
// It is alive: a new server must refuse.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_frozen_holder() {
    return {"frozen-holder", "the running server is SIGSTOPped", {""}, 1, 0, false,
            [](Trial& t, const std::string&) { t.freeze(scenario_util::start_server(t)); }, scenario_util::plain};
}
}  // namespace ilk
