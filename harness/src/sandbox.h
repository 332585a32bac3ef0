// Run a piece of code in a forked child so that a crash or hang in it (plugin
// code above all) costs the child, never the harness.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace ilk {

struct SandboxResult {
    bool completed = false;  // the child returned normally (exit 0)
    bool timed_out = false;  // killed after the timeout
    int signal = 0;          // signal that ended the child, if any
    int exit_code = 0;
    std::string payload;     // what the child wrote back
    // "killed by SIGSEGV", "timed out after 2000 ms", "exit code 3"; empty if completed.
    std::string failure() const;
};

// fn runs in the child and returns the payload handed back to the parent.
SandboxResult run_sandboxed(const std::function<std::string()>& fn, std::chrono::milliseconds timeout);

// "SIGSEGV" for SIGSEGV etc.
std::string signal_name(int sig);

}  // namespace ilk
