#include <fstream>
#include <stdexcept>

#include "engine/scenario.h"

namespace ilk::scenario_util {

Contender& start_server(Trial& t, const SpawnOptions& o) {
    Contender& a = t.spawn("A", o);
    t.run_to_end(a);
    if (a.state != Contender::State::running)
        throw std::runtime_error("the first server A could not start on a fresh data directory: " + a.why);
    return a;
}

SpawnOptions plain(Trial&, const std::string&, int) { return {}; }

namespace {
std::vector<std::string> pidfile_lines(const Trial& t) {
    std::ifstream in(t.datadir() / "postmaster.pid");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l) && lines.size() < 8;) lines.push_back(l);
    return lines;
}
}  // namespace

long read_pid(const Trial& t) {
    const auto lines = pidfile_lines(t);
    return lines.empty() ? -1 : std::strtol(lines[0].c_str(), nullptr, 10);
}

long long read_key(const Trial& t) {
    const auto lines = pidfile_lines(t);
    long long key = -1;
    if (lines.size() >= 7) std::sscanf(lines[6].c_str(), "%lld", &key);
    return key;
}

}  // namespace ilk::scenario_util
