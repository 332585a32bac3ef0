// corrupt-pidfile: A crashed with everything, and its pidfile is now empty,
// truncated, garbage or huge. Nothing is alive: a new server must start.
#include <fstream>

#include "engine/scenario.h"

namespace ilk {
Scenario scenario_corrupt_pidfile() {
    return {"corrupt-pidfile", "the crashed server's pidfile is empty, truncated, garbage or huge",
            {"empty", "truncated", "garbage", "huge"}, 1, 0, false,
            [](Trial& t, const std::string& variant) {
                t.crash(scenario_util::start_server(t), true);
                const auto path = t.datadir() / "postmaster.pid";
                std::string first;
                std::getline(std::ifstream(path) >> std::ws, first);
                std::ofstream out(path, std::ios::trunc | std::ios::binary);
                if (variant == "truncated") out << first.substr(0, (first.size() + 1) / 2);  // half a PID, no newline
                if (variant == "garbage") out << "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n";
                if (variant == "huge") out << std::string(1 << 20, 'x') << "\n";
            },
            scenario_util::plain};
}
}  // namespace ilk
