// tom-2004: Tom Lane's 9 steps (seed thread, first message), with the
// segment key and PID in postmaster.pid and the attach-count check. With
// startup_lock, the proposed second lockfile that exists only during startup,
// validated with kill(pid, 0). With a segment primitive that keeps no attach
// count (hugetlbfs: hugepage-tom), step 5 "just assume they are there".
#include "engine/server.h"

namespace ilk {

namespace {

// The startup lock: O_EXCL create; if it exists and its PID is alive, refuse;
// if dead, delete it and try again.
bool take_startup_lock(Server& s, std::string& why) {
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (s.create_excl("0 create postmaster.startup (O_EXCL)", "postmaster.startup")) return true;
        const PidfileRead other = s.read_pidfile("0 read postmaster.startup", "postmaster.startup");
        if (other.state == PidfileRead::absent) continue;
        if (other.state != PidfileRead::ok) {
            why = "postmaster.startup is unreadable or corrupt";
            return false;
        }
        if (s.kill0("0 kill(pid, 0) on the startup lock's PID", other.pid) != ESRCH) {
            why = "another server is starting up";
            return false;
        }
        s.unlink_file("0 delete stale postmaster.startup", "postmaster.startup");
    }
    why = "postmaster.startup keeps coming back";
    return false;
}

StartResult tom_steps(Server& s) {
    const PidfileRead old = s.read_pidfile("1 read postmaster.pid", "postmaster.pid");
    if (old.state == PidfileRead::unreadable) return s.refuse("step 1: cannot read postmaster.pid");
    if (old.state != PidfileRead::absent) {
        if (old.state != PidfileRead::ok || old.key < 0) return s.refuse("step 2: postmaster.pid is not as expected");
        const Server::Attach a = s.attach_segment("3 attach old segment", old.key, old.id);
        if (a == Server::Attach::attached) {
            if (!s.segment_header_matches("4 check segment header", old.pid)) {
                s.detach_segment("4 detach foreign segment");
            } else {
                const long long count = s.attach_count("5 check attach count");
                // No count (hugepage segment): "just assume they are there".
                if (count < 0 || count > 1) return s.refuse("step 5: old segment is still in use");
                s.remove_segment("6 delete old segment");
            }
        }
        if (!s.unlink_file("7 delete postmaster.pid", "postmaster.pid")) return s.refuse("step 7: cannot delete postmaster.pid");
    }
    long long key = 0, id = 0;
    if (s.create_segment("8 create segment", s.datadir_key(), true, &key, &id) != Server::Create::created)
        return s.refuse("step 8: cannot create segment");
    int fd = -1;
    if (!s.create_excl("9 create postmaster.pid (O_EXCL)", "postmaster.pid", &fd))
        return s.refuse("step 9: postmaster.pid exists: someone else is starting");
    s.write_pidfile("9 write postmaster.pid", fd, key, id);
    return s.running();
}

}  // namespace

StartResult start_tom_2004(Server& s) {
    if (!s.spec().startup_lock) return tom_steps(s);
    std::string why;
    if (!take_startup_lock(s, why)) return s.refuse(why);
    const StartResult r = tom_steps(s);
    s.unlink_file("10 delete postmaster.startup", "postmaster.startup");
    return r;
}

}  // namespace ilk
