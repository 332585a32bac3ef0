// key-collision: A crashed and its segment is gone (as after a reboot), but an
// unrelated program's segment now sits on the recorded key — attached by that
// program or not. A new server must start, and must not remove it.
#include <sys/shm.h>
#include <unistd.h>

#include <stdexcept>

#include "engine/scenario.h"
#include "journal.h"

namespace ilk {
Scenario scenario_key_collision() {
    return {"key-collision", "a foreign segment sits on the recorded key", {"attached", "detached"}, 1, 0, false,
            [](Trial& t, const std::string& variant) {
                Contender& a = scenario_util::start_server(t);
                t.crash(a, true);
                long long key = scenario_util::read_key(t);
                if (key < 0) key = 0x49000000LL | 0xfffff0;  // strategies that record no key: plant one anyway
                if (const int old = shmget(static_cast<key_t>(key), 0, 0); old >= 0) shmctl(old, IPC_RMID, nullptr);
                t.env().journal->record("segment", "sysv " + std::to_string(key) + " " + std::to_string(getpid()));
                const int id = shmget(static_cast<key_t>(key), 4096, IPC_CREAT | IPC_EXCL | 0666);
                if (id < 0) throw std::runtime_error("cannot plant the foreign segment");
                t.plant_foreign_segment(id);
                if (variant == "attached") t.spawn_foreign_process(0, 0, id);
            },
            scenario_util::plain, kReadsSegments};
}
}  // namespace ilk
