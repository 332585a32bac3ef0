// lifetime-<lock>: a file lock held for the server's whole life (Giles Lean,
// Bruce Momjian in the seed thread; InnoDB, MongoDB, bbolt, systemd, SQLite,
// LMDB and RocksDB each with their own file). Take it without waiting, or
// retry every 50 ms for lock_wait_ms (bbolt); busy -> refuse. The lock's fd is
// inherited by the backends, as a real server's would be. On the data
// directory itself (lock_file "."), the PID goes into postmaster.pid for
// people only: no start-up reads it.
#include <unistd.h>

#include <fmt/format.h>

#include "engine/server.h"

namespace ilk {

StartResult start_lifetime_lock(Server& s) {
    const StrategySpec& spec = s.spec();
    const std::string& file = spec.lock_file;
    const std::string shown = file == "." ? "the data directory" : file;
    const int tries = 1 + spec.lock_wait_ms / 50;
    for (int attempt = 1;; ++attempt) {
        const std::string step = attempt == 1 ? fmt::format("lock {} ({}, no wait)", shown, spec.lock)
                                              : fmt::format("lock {} again (try {} of {})", shown, attempt, tries);
        switch (s.open_and_lock(step, file, spec.write_pid)) {
        case Server::Lock::locked:
            if (file == "." && spec.write_pid) s.write_file("write postmaster.pid (for people)", "postmaster.pid", fmt::format("{}\n", getpid()));
            return s.running();
        case Server::Lock::busy:
            if (attempt < tries) {
                s.wait_ms(50);
                continue;
            }
            return s.refuse(tries == 1 ? shown + " is locked by another server"
                                       : fmt::format("{} is still locked by another server after {} ms", shown, spec.lock_wait_ms));
        case Server::Lock::failed: break;
        }
        return s.refuse("cannot open or lock " + shown);
    }
}

}  // namespace ilk
