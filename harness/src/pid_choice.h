// Making a chosen PID be reused, as the recycled-PID scenarios need and the
// probe measures: clone3 with set_tid, or a write to ns_last_pid before fork.
// Both need root (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE).
#pragma once

#include <sys/types.h>

namespace ilk {

// clone3(set_tid = want): like fork(), the child gets `want`. -1 with errno
// when the kernel or the headers refuse (ENOSYS when built without clone3).
pid_t clone_with_pid(pid_t want);

// ns_last_pid = want - 1, then fork(); another process may fork in between,
// so up to `tries` times (a child with the wrong PID is killed and reaped).
// Like fork(); -1 with errno (EBUSY: never got it). *attempts: tries used.
pid_t fork_via_ns_last_pid(pid_t want, int tries = 5, int* attempts = nullptr);

// Fork with the child getting a chosen PID when want > 0: clone3 set_tid,
// else ns_last_pid. Returns like fork().
pid_t fork_as(pid_t want);

}  // namespace ilk
