// lifetime-<lock>: a file lock held for the server's whole life (Giles Lean,
// Bruce Momjian in the seed thread). Take it without waiting; busy -> refuse.
// The lock's fd is inherited by the backends, as a real server's would be.
#include "engine/server.h"

namespace ilk {

StartResult start_lifetime_lock(Server& s) {
    switch (s.open_and_lock("lock postmaster.pid (" + s.spec().lock + ", no wait)", "postmaster.pid")) {
    case Server::Lock::locked: return s.running();
    case Server::Lock::busy: return s.refuse("postmaster.pid is locked by another server");
    case Server::Lock::failed: break;
    }
    return s.refuse("cannot open or lock postmaster.pid");
}

}  // namespace ilk
