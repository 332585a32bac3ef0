// key-collision: A crashed and its segment is gone (as after a reboot), but an
// unrelated program's segment now sits on the recorded key — attached by that
// program or not. A new server must start, and must not remove it.
#include <stdexcept>

#include "engine/scenario.h"

namespace ilk {
Scenario scenario_key_collision() {
    return {"key-collision", "a foreign segment sits on the recorded key", {"attached", "detached"}, 1, 0, false,
            [](Trial& t, const std::string& variant) {
                Contender& a = scenario_util::start_server(t);
                t.crash(a, true);
                long long key = scenario_util::read_key(t);
                if (key < 0) key = 0x49000000LL | 0xfffff0;  // strategies that record no key: plant one anyway
                Host& host = t.planting_host();
                if (const auto old = host.segment_on_key(key)) {
                    // Only A's own segment is removed ("gone, as after a reboot"); anyone else's is not ours to touch.
                    if (old->second != a.proc.pid)
                        throw UnsupportedHere("key " + std::to_string(key) + " already holds segment " + std::to_string(old->first) +
                                              " of process " + std::to_string(old->second) + ", not the kit's: the scenario cannot be staged");
                    host.reclaim_segment(t.strategy().server ? "sysv" : t.strategy().segment, key, a.proc.pid);  // a real server's is SysV
                }
                const int id = t.plant_foreign_segment(key);
                if (variant == "attached") t.spawn_foreign_process(0, 0, id);
            },
            scenario_util::plain, kReadsSegments};
}
}  // namespace ilk
