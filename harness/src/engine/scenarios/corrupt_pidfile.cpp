// corrupt-pidfile: A crashed with everything, and its pidfile is now empty,
// truncated, garbage or huge. Nothing is alive: a new server must start.
// The pidfile is the file the strategy writes its PID into (pidfile_of):
// mongod.lock for mongodb; a strategy that writes none has no cell here.
#include <sstream>

#include "engine/scenario.h"

namespace ilk {
Scenario scenario_corrupt_pidfile() {
    return {"corrupt-pidfile", "the crashed server's pidfile is empty, truncated, garbage or huge",
            {"empty", "truncated", "garbage", "huge"}, 1, 0, false,
            [](Trial& t, const std::string& variant) {
                const std::string pidfile = scenario_util::pidfile_or_not_applicable(t);
                t.crash(scenario_util::start_server(t), true);
                std::istringstream was(t.files().read(pidfile).value_or(""));
                std::string first, now;
                std::getline(was >> std::ws, first);
                if (variant == "truncated") now = first.substr(0, (first.size() + 1) / 2);  // half a PID, no newline
                if (variant == "garbage") now = std::string("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n", 16);
                if (variant == "huge") now = std::string(1 << 20, 'x') + "\n";
                t.files().write(pidfile, now);
            },
            scenario_util::plain};
}
}  // namespace ilk
