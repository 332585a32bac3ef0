// link-lockfile: the lock file made for NFS (liblockfile's lockfile_create(3)
// with L_PID, flufl.lock): a unique temporary file holding our PID, link(2)ed
// to the lock's name; we hold the lock when the temporary file's link count
// is 2 (link's own answer is not trusted: over NFS a retransmitted LINK can
// report failure after it succeeded). A lock that names a dead PID, or none
// and is older than stale_ms, is stale: deleted and tried again.
// Not modelled: liblockfile's retries with sleeps (a busy lock refuses at
// once) and lockfile_touch(3) by a running holder (the kit's holders are
// younger than 5 minutes).
#include <unistd.h>

#include <fmt/format.h>

#include "engine/server.h"

namespace ilk {

StartResult start_link_lockfile(Server& s) {
    const std::string& lock = s.spec().lock_file;
    const std::string tmp = fmt::format("{}.lk{}", lock, getpid());
    if (!s.create_excl("1 create " + tmp + " (O_EXCL, our PID)", tmp)) return s.refuse("cannot create the temporary file " + tmp);
    std::string why;
    for (int attempt = 0; attempt < 3; ++attempt) {
        s.link_file("2 link " + tmp + " to " + lock, tmp, lock);
        if (s.stat_file("3 stat " + tmp + ": 2 links?", tmp).nlink == 2) {
            s.unlink_file("4 delete " + tmp, tmp);
            return s.running();
        }
        const PidfileRead held = s.read_pidfile("5 read " + lock, lock);
        if (held.state == PidfileRead::absent) continue;  // released since: link again
        if (held.state == PidfileRead::ok && held.pid > 0) {
            const int err = s.kill0("6 kill(pid, 0)", held.pid);
            if (err != ESRCH) {
                why = fmt::format("{} is held by process {}", lock, held.pid);
                break;
            }
        } else if (const Server::FileStat st = s.stat_file("6 how old is " + lock, lock); st.nlink > 0 && st.age_ms < s.spec().stale_ms) {
            why = fmt::format("{} names no PID and is younger than {} ms", lock, s.spec().stale_ms);
            break;
        }
        if (!s.unlink_file("7 delete stale " + lock, lock)) continue;
    }
    s.unlink_file("8 delete " + tmp, tmp);
    return s.refuse(why.empty() ? lock + " keeps coming back" : why);
}

}  // namespace ilk
