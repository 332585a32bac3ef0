// legacy-pid: the interlock before the seed thread. O_EXCL pidfile; if one
// exists, kill(pid, 0) decides: alive (or EPERM) -> refuse, ESRCH -> delete it and retry.
#include "engine/server.h"

namespace ilk {

StartResult start_legacy_pid(Server& s) {
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (s.create_excl("create postmaster.pid (O_EXCL)", "postmaster.pid")) return s.running();
        const PidfileRead old = s.read_pidfile("read postmaster.pid", "postmaster.pid");
        if (old.state == PidfileRead::absent) continue;
        if (old.state != PidfileRead::ok) return s.refuse("postmaster.pid is unreadable or corrupt");
        const int err = s.kill0("kill(pid, 0)", old.pid);
        if (err != ESRCH) return s.refuse("process " + std::to_string(old.pid) + " is alive");
        if (!s.unlink_file("delete stale postmaster.pid", "postmaster.pid")) return s.refuse("cannot delete stale postmaster.pid");
    }
    return s.refuse("postmaster.pid keeps coming back");
}

}  // namespace ilk
