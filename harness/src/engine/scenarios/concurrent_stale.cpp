// concurrent-stale: N starters on the stale leftovers of a crashed server —
// the race Tom Lane describes at step 7 of the seed thread. Variant
// "2-killed-start": the leftovers also hold what a starter K killed right
// after its first change left behind (a startup lock, an empty pidfile, a
// lock file): the window Tom Lane's second lockfile leaves open ("at least
// the window of vulnerability is much smaller than before").
#include "engine/scenario.h"

namespace ilk {
namespace {

void setup(Trial& t, const std::string& variant) {
    t.crash(scenario_util::start_server(t), true);
    if (variant != "2-killed-start") return;
    Contender& k = t.spawn("K");
    while (k.enabled()) {
        const Access next = k.next;
        t.advance(k);
        if (next.write && k.changed) break;  // its first step that changed the data directory
    }
    if (k.enabled()) t.crash(k, false);
}

}  // namespace

Scenario scenario_concurrent_stale() {
    return {"concurrent-stale", "N starters on a crashed server's stale pidfile and segment (and a killed starter's leftovers)",
            {"2", "3", "2-killed-start"}, 0, 2, false, setup, scenario_util::plain};
}
}  // namespace ilk
