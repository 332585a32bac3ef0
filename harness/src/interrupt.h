// Ctrl-C and friends: the signal handler only sets a flag; every wait in the
// harness returns on EINTR and checks it, so a run stops at the next step and
// still removes everything it made.
#pragma once

#include <atomic>

namespace ilk {

extern std::atomic<bool> g_interrupted;
struct Interrupted {};

inline void throw_if_interrupted() {
    if (g_interrupted.load()) throw Interrupted{};
}

// Route SIGINT, SIGTERM and SIGHUP to the flag (no SA_RESTART).
void install_interrupt_handlers();

}  // namespace ilk
