// container-split: two containers on one volume. The running server A and the
// starter each live in their own new PID and/or IPC namespace, sharing only the
// data directory. A is alive: the starter must refuse.
#include <sched.h>

#include "engine/scenario.h"

namespace ilk {
namespace {
int flags_of(const std::string& variant) {
    return variant == "pid" ? CLONE_NEWPID : variant == "ipc" ? CLONE_NEWIPC : CLONE_NEWPID | CLONE_NEWIPC;
}
}  // namespace
Scenario scenario_container_split() {
    return {"container-split", "server and starter in separate PID/IPC namespaces on one data directory", {"pid", "ipc", "pid+ipc"}, 1, 0, true,
            [](Trial& t, const std::string& variant) { scenario_util::start_server(t, {.unshare_flags = flags_of(variant)}); },
            [](Trial&, const std::string& variant, int) { return SpawnOptions{.unshare_flags = flags_of(variant)}; }, kReadsPids | kReadsSegments};
}
}  // namespace ilk
