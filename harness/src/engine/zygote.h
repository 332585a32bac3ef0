// The zygote: `ilk contender --zygote`, re-executed once per run with every
// plugin preloaded, forks each contender on request. A contender is still a
// real process of the re-executed binary, but starting one costs a fork, not
// an exec plus dynamic loading (about 0.3 ms instead of 10 ms here).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include <boost/dll/shared_library.hpp>

#include <nlohmann/json.hpp>

#include "engine/trial.h"
#include "pid_choice.h"

namespace ilk {

class Zygote {
public:
    // Start the zygote; libraries: primitive name -> plugin path (preloaded there).
    // The zygote's process is journaled when a journal is given (an agent has none: its namespaces end with it).
    Zygote(const std::filesystem::path& binary, const nlohmann::json& libraries, const Journal* journal);
    ~Zygote();
    Zygote(const Zygote&) = delete;

    // Fork a contender that speaks on channel_fd (passed over). Returns the
    // contender's PID and the PID of its direct parent when that is not the
    // zygote (namespaces, chosen parent PID), else -1.
    std::pair<pid_t, pid_t> spawn(int channel_fd, const SpawnOptions& options);
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int control_ = -1;
};

// In a contender forked by the zygote: a fd that reports hang-up once the
// zygote (and so the run) is gone; -1 elsewhere.
int lifeline_fd();

// In a contender forked by the zygote: the plugin library at `path` as the
// zygote preloaded it (so the contender need not dlopen it again); nullptr
// elsewhere or when it was not preloaded.
const boost::dll::shared_library* preloaded_library(const std::string& path);

// `ilk contender --zygote --fd N --parent PID`.
int zygote_main(int control_fd, pid_t parent);

}  // namespace ilk
