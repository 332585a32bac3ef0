// concurrent-start: N starters on an empty data directory; exactly one may win.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_concurrent_start() {
    return {"concurrent-start", "N starters on an empty data directory", {"2", "3"}, 0, 2, false,
            [](Trial&, const std::string&) {}, scenario_util::plain};
}
}  // namespace ilk
