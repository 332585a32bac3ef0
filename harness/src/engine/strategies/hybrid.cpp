// hybrid: a lifetime lock, plus the segment attach-count check for orphaned
// backends of a crashed server (which hold the segment, and hold the lock only
// if the lock is shared with forked children).
#include <fcntl.h>
#include <unistd.h>

#include "engine/server.h"

namespace ilk {

StartResult start_hybrid(Server& s) {
    switch (s.open_and_lock("1 lock postmaster.lock (" + s.spec().lock + ", no wait)", "postmaster.lock")) {
    case Server::Lock::locked: break;
    case Server::Lock::busy: return s.refuse("postmaster.lock is locked by another server");
    case Server::Lock::failed: return s.refuse("cannot open or lock postmaster.lock");
    }
    const PidfileRead old = s.read_pidfile("2 read postmaster.pid", "postmaster.pid");
    if (old.state == PidfileRead::ok && old.key >= 0) {
        if (s.attach_segment("3 attach old segment", old.key, old.id) == Server::Attach::attached) {
            if (s.segment_header_matches("4 check segment header", old.pid)) {
                const long long count = s.attach_count("5 check attach count");
                if (count < 0 || count > 1) return s.refuse("old segment is still in use by orphaned backends");
                s.remove_segment("6 delete old segment");
            } else {
                s.detach_segment("4 detach foreign segment");
            }
        }
    }
    if (old.state != PidfileRead::absent) s.unlink_file("7 delete old postmaster.pid", "postmaster.pid");
    long long key = 0, id = 0;
    if (s.create_segment("8 create segment", s.datadir_key(), true, &key, &id) != Server::Create::created)
        return s.refuse("cannot create segment");
    int fd = -1;
    if (!s.create_excl("9 create postmaster.pid (O_EXCL)", "postmaster.pid", &fd)) return s.refuse("postmaster.pid exists");
    s.write_pidfile("9 write postmaster.pid", fd, key, id);
    return s.running();
}

}  // namespace ilk
