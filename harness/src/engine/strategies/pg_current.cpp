// pg-current: PostgreSQL's present algorithm (miscinit.c CreateLockFile and
// sysv_shmem.c, PostgreSQL 16-17, as summarised in FACTS.md): O_EXCL pidfile
// with retries; empty -> refuse; own/parent PID -> stale; kill(pid, 0) with
// EPERM counted as stale; refuse while the recorded segment is attached and
// ours; segment key from the data directory's inode, key++ past foreign ones.
#include <unistd.h>

#include "engine/server.h"

namespace ilk {

StartResult start_pg_current(Server& s) {
    int fd = -1;
    for (int attempt = 0; attempt < 100; ++attempt) {
        if (s.create_excl("1 create postmaster.pid (O_EXCL)", "postmaster.pid", &fd)) break;
        const PidfileRead old = s.read_pidfile("2 read postmaster.pid", "postmaster.pid");
        if (old.state == PidfileRead::absent) continue;
        if (old.state == PidfileRead::empty) return s.refuse("lock file postmaster.pid is empty: another server is starting, or a crash left it");
        if (old.state != PidfileRead::ok) return s.refuse("cannot read postmaster.pid");
        if (old.pid <= 0) return s.refuse("bogus data in lock file postmaster.pid");
        if (old.pid != getpid() && old.pid != getppid()) {
            const int err = s.kill0("2 kill(pid, 0)", old.pid);
            if (err != ESRCH && err != EPERM) return s.refuse("another server (PID " + std::to_string(old.pid) + ") is running");
        }
        if (old.key >= 0 && s.attach_segment("3 attach recorded segment", old.key, old.id) == Server::Attach::attached) {
            const long long count = s.attach_count("3 check attach count");
            const bool ours = s.segment_header_matches("3 check magic, device and inode", 0);
            s.detach_segment("3 detach");
            if (ours && count != 0 && count - 1 > 0)
                return s.refuse("pre-existing shared memory block is still in use");
        }
        if (!s.unlink_file("4 delete postmaster.pid", "postmaster.pid")) return s.refuse("could not remove old lock file");
        fd = -1;
    }
    if (fd < 0) return s.refuse("could not create lock file postmaster.pid after 100 tries");
    s.write_pidfile("4 write postmaster.pid", fd, -1, -1);
    long long key = 0, id = 0;
    if (!s.create_segment("5 create segment (key from inode, key++ past taken keys)", s.datadir_key(), true, &key, &id))
        return s.refuse("could not create shared memory segment");
    s.write_pidfile("5 record key in postmaster.pid", fd, key, id);
    return s.running();
}

}  // namespace ilk
