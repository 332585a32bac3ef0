// A scenario: an adversarial situation a strategy must survive. It plants
// state (often by starting a first server A and then breaking it), then
// `starters` new contenders start under the explorer's schedules.
#pragma once

#include <string>
#include <vector>

#include "engine/strategy.h"
#include "engine/trial.h"

namespace ilk {

struct Scenario {
    const char* name;
    const char* summary;
    std::vector<std::string> variants;  // e.g. corrupt-pidfile: empty, truncated, ...; {""} for none
    int starters;                       // contenders started after the set-up (0: the variant's number)
    int faults;                         // crash faults (SIGKILL of a starter at a step) explored, at most
    bool needs_root;                    // PID reuse, other uids, namespaces
    // Plant the situation; returns the spawn options for starter i (0-based).
    void (*setup)(Trial& t, const std::string& variant);
    SpawnOptions (*starter)(Trial& t, const std::string& variant, int index);
    // What it changes besides the data directory's files (TemplateReads bits).
    // To a strategy whose template reads none of it, the situation is one
    // another scenario stages without the change (a crash, a running server),
    // so where this one cannot be staged, that strategy's cell does not depend
    // on it. 0: it changes the files (matters to every strategy).
    unsigned changes = 0;
};

const std::vector<Scenario>& scenarios();
const Scenario* find_scenario(std::string_view name);

// Shared by the scenario files.
namespace scenario_util {
inline constexpr uid_t kServerUid = 2147483601;  // the dedicated uid contenders run as where it matters
inline constexpr uid_t kOtherUid = 2147483602;   // "someone else"
// Start server A and run it until it holds the directory; throws if it refuses on a fresh directory.
Contender& start_server(Trial& t, const SpawnOptions& o = {});
SpawnOptions plain(Trial&, const std::string&, int);
// postmaster.pid's PID and segment key (-1 when absent).
long read_pid(const Trial& t);
long long read_key(const Trial& t);
}  // namespace scenario_util

}  // namespace ilk
