// pg-current: PostgreSQL's present algorithm (miscinit.c CreateLockFile and
// sysv_shmem.c PGSharedMemoryCreate, PostgreSQL 16-17, as summarised in
// FACTS.md): O_EXCL pidfile with retries; empty -> refuse; own/parent PID ->
// stale; kill(pid, 0) with EPERM counted as stale; refuse while the recorded
// segment is attached and ours. Then the segment: the first key is the data
// directory's inode; whatever segment sits at a key is examined — foreign:
// key++; ours and unattached: removed and the key reused; ours and attached:
// refuse — whether or not a pidfile was found. A start-up that fails after
// making the lock file deletes it on exit, as PostgreSQL's FATAL does.
#include <unistd.h>

#include "engine/server.h"

namespace ilk {

namespace {

// The pidfile (CreateLockFile): returns the open fd, or -1 with `why` set.
int create_lock_file(Server& s, std::string& why) {
    int fd = -1;
    for (int attempt = 0; attempt < 100; ++attempt) {
        if (s.create_excl("1 create postmaster.pid (O_EXCL)", "postmaster.pid", &fd)) return fd;
        const PidfileRead old = s.read_pidfile("2 read postmaster.pid", "postmaster.pid");
        if (old.state == PidfileRead::absent) continue;
        if (old.state == PidfileRead::empty) {
            why = "lock file postmaster.pid is empty: another server is starting, or a crash left it";
            return -1;
        }
        if (old.state != PidfileRead::ok) return why = "cannot read postmaster.pid", -1;
        if (old.pid <= 0) return why = "bogus data in lock file postmaster.pid", -1;
        if (old.pid != getpid() && old.pid != getppid()) {
            const int err = s.kill0("2 kill(pid, 0)", old.pid);
            if (err != ESRCH && err != EPERM) return why = "another server (PID " + std::to_string(old.pid) + ") is running", -1;
        }
        if (old.key >= 0 && s.attach_segment("3 attach recorded segment", old.key, old.id) == Server::Attach::attached) {
            const long long count = s.attach_count("3 check attach count");
            const bool ours = s.segment_header_matches("3 check magic, device and inode", 0);
            s.detach_segment("3 detach");
            // PostgreSQL reads shm_nattch before it attaches; we read it attached.
            if (ours && count != 0 && count - 1 > 0) return why = "pre-existing shared memory block is still in use", -1;
        }
        if (!s.unlink_file("4 delete postmaster.pid", "postmaster.pid")) return why = "could not remove old lock file", -1;
    }
    why = "could not create lock file postmaster.pid after 100 tries";
    return -1;
}

// The segment (PGSharedMemoryCreate): true with key/id set, or false with `why`.
bool create_shared_memory(Server& s, long long* key_out, long long* id_out, std::string& why) {
    long long key = s.datadir_key();
    for (int attempt = 0; attempt < 64; ++attempt) {
        const Server::Create made = s.create_segment("5 create segment at key", key, false, key_out, id_out);
        if (made == Server::Create::created) return true;
        if (made == Server::Create::failed) return why = "could not create shared memory segment", false;
        // A segment sits at the key: examine it.
        const Server::Attach a = s.attach_segment("5 attach the segment at the key", key, -1);
        if (a == Server::Attach::absent) continue;  // gone since: the same key again
        if (a == Server::Attach::failed) {
            why = "pre-existing shared memory block (key " + std::to_string(key) + ") could not be examined";
            return false;
        }
        const long long count = s.attach_count("5 check its attach count");
        if (!s.segment_header_matches("5 check its magic, device and inode", 0)) {
            s.detach_segment("5 detach: foreign, try the next key");
            ++key;
            continue;
        }
        if (count < 0 || count - 1 > 0) {
            s.detach_segment("5 detach");
            why = "pre-existing shared memory block (key " + std::to_string(key) + ") is still in use";
            return false;
        }
        if (!s.remove_segment("5 remove our old unattached segment")) ++key;
    }
    why = "could not create shared memory segment: no free key found";
    return false;
}

}  // namespace

StartResult start_pg_current(Server& s) {
    std::string why;
    const int fd = create_lock_file(s, why);
    if (fd < 0) return s.refuse(why);
    s.write_pidfile("4 write postmaster.pid", fd, -1, -1);
    long long key = 0, id = 0;
    if (!create_shared_memory(s, &key, &id, why)) {
        // A FATAL exit runs UnlinkLockFiles: the lock file it made goes with it.
        s.unlink_file("6 exit: delete our postmaster.pid", "postmaster.pid");
        return s.refuse(why);
    }
    s.write_pidfile("5 record key in postmaster.pid", fd, key, id);
    return s.running();
}

}  // namespace ilk
