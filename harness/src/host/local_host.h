// The local host: contenders forked by a zygote of this machine, processes
// read from this /proc, segments of this IPC namespace, resources journaled
// in the run's journal.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "host/host.h"

namespace ilk {

class Journal;
class Registry;
class Zygote;

// A Link over a stream socket (the contender's end is in the contender).
std::unique_ptr<Link> socket_link(int fd);

// Host-side process facts of this machine.
bool process_alive(const ProcessId& p);              // exists, same start time, not a zombie
pid_t process_own_pid(pid_t pid);                    // last NSpid field; -1 if gone

class LocalHost : public Host {
public:
    // Starts the zygote: `binary` re-executed in its role, every plugin preloaded.
    // Every process and segment is journaled first when a journal is given (an
    // agent has none: its namespaces, or its machine, end with it).
    LocalHost(const Registry& registry, const Journal* journal, const std::filesystem::path& binary);
    ~LocalHost() override;

    std::string name() const override { return "local"; }
    SpawnedContender spawn(const SpawnOptions& options) override;
    bool alive(const ProcessId& p) override { return process_alive(p); }
    void signal(const ProcessId& p, int sig) override;
    std::vector<ChildProcess> children(const ProcessId& p) override;
    std::vector<ProcessId> strays(uid_t uid) override;
    void record(const std::string& kind, const std::string& what) override;
    void reclaim_segment(const std::string& primitive, long long key, pid_t creator) override;
    PlantedProcess plant_process(pid_t want_pid, uid_t uid, int attach_segment_id) override;
    int planted_signal(const PlantedProcess& p) override;
    void remove_planted(const PlantedProcess& p) override;
    int plant_segment(long long key) override;
    bool segment_intact(int id) override;
    void remove_planted_segment(int id) override;
    std::optional<std::pair<int, pid_t>> segment_on_key(long long key) override;
    nlohmann::json file(const nlohmann::json& request) override;

private:
    const Registry& registry_;
    const Journal* journal_;
    std::unique_ptr<Zygote> zygote_;
    struct Planted {
        pid_t pid;
        int signal_pipe;
    };
    std::vector<Planted> planted_;  // by handle
};

}  // namespace ilk
