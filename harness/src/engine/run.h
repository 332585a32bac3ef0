// `ilk run`: every chosen strategy x scenario on every target, with verdicts,
// counterexample files, and the probe of each target; the result is the
// compatibility matrix (model/matrix.h).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/explorer.h"
#include "host/files.h"
#include "host/lab_control.h"
#include "matrix.h"
#include "probe.h"
#include "profile.h"
#include "target.h"

namespace ilk {

class Journal;
class NfsLab;
class Registry;

struct RunOptions {
    std::vector<std::string> strategies;  // empty: all
    std::vector<std::string> scenarios;   // empty: all
    std::vector<std::string> skip_scenarios;  // never these (situations a deployment cannot meet)
    ScheduleOptions schedule;
    std::filesystem::path counterexample_dir;  // where counterexample files go; empty: none written
    bool counterexamples_per_target = true;    // a subdirectory per target (more than one target)
    std::filesystem::path link_base;           // counterexample paths in the report are relative to this
    std::filesystem::path contender_binary;    // default: this executable
    PlatformProfile profile;                   // compared with each target's probe (empty name: none)
    bool probe = true;                         // probe each target's primitives first
    int jobs = 1;                              // worker processes at the same time (CPUs to use)
    enum class Progress { none, lines, bar } progress = Progress::none;
};

// Prepared targets in, the matrix out. Each target runs in worker processes
// of its own (a crash there is those cells' ERROR, the run goes on): one, or
// when there are fewer targets than `jobs`, a shard per CPU, each taking every
// k-th strategy (the probe runs in the first). At most `jobs` workers run at a
// time, each pinned to its own CPU and, as root, in an IPC namespace of its
// own so that concurrent workers never meet each other's SysV keys. Ctrl-C
// stops every worker at its next step; the partial matrix is returned.
MatrixReport run_matrix(const Registry& registry, Journal& journal, const std::vector<StrategySpec>& strategies,
                        const std::vector<PreparedTarget>& targets, const RunOptions& options);

// Which part of a target's strategies one worker runs: those whose position
// among the wanted ones is `index` modulo `count`. Shard 0 also probes.
struct Shard {
    int index = 0, count = 1;
};

// One target (or one shard of it) in this process: probe, then every strategy x scenario.
// on_start is called when a strategy's cell begins, on_cell when it is complete.
TargetResult run_target(const Registry& registry, const Journal& journal, const std::vector<StrategySpec>& strategies,
                        const PreparedTarget& target, const RunOptions& options,
                        const std::function<void(const std::string&)>& on_start,
                        const std::function<void(const StrategyCell&)>& on_cell, Shard shard = {});

// Every strategy of `mine` x every wanted scenario in `env`, cell by cell into
// `result`; an interrupt keeps the cells done (and the one cut short).
void run_cells(const TrialEnv& env, const std::vector<const StrategySpec*>& mine, const std::map<std::string, PrimitiveStatus>& prims,
               const std::filesystem::path& cx_dir, const RunOptions& options, const std::function<void(const std::string&)>& on_start,
               const std::function<void(const StrategyCell&)>& on_cell, TargetResult& result);

// The trials of a network mount in the lab: A on client A, every other
// contender on client B, the data directories under DIR/trials on the mount
// (made now through client A, removed at the end), the lab's control.
struct NetworkEnv {
    NetworkEnv(const Registry& registry, NfsLab& lab, const std::string& mount);
    ~NetworkEnv();
    NetworkEnv(const NetworkEnv&) = delete;
    std::unique_ptr<LabControl> control;
    HostDir trials;
    TrialEnv env;
};

// One network mount of an NFS lab as a target of the matrix (kind "network"):
// its probe (client A's own, then across the clients) says which primitives
// work there; then every strategy x scenario with the first server A on
// client A and every other contender on client B, the data directories on
// the mount, made and removed through client A.
TargetResult run_network_mount(const Registry& registry, const std::vector<StrategySpec>& strategies, NfsLab& lab,
                               const std::string& mount, const RunOptions& options,
                               const std::function<void(const std::string&)>& on_start,
                               const std::function<void(const StrategyCell&)>& on_cell);

// The shards' results of one target as one: cells in the order of `strategies`,
// the probe from shard 0, the time of the slowest shard.
TargetResult merge_shards(std::vector<TargetResult> shards, const std::vector<StrategySpec>& strategies);

// A counterexample as a file; returns the path written.
// DIR/STRATEGY--SCENARIO[--VARIANT][SUFFIX].json
std::filesystem::path write_counterexample(const Counterexample& cx, const std::filesystem::path& dir, const std::string& suffix = "");

// "exhaustive (preemption bound 2, up to 1 fault, at most 50 schedules per variant)"
std::string schedule_text(const ScheduleOptions& o);

// The platform profiles in `dirs` whose os is not `sysname`: listed in the
// matrix as not run (their claims only). Throws ProfileError for a broken one.
std::vector<NotRunPlatform> platforms_not_run(const std::vector<std::filesystem::path>& dirs, std::string_view sysname);

// "linux 6.1.0-28-amd64": the platform label of this host's results.
std::string platform_label(const nlohmann::json& host);

}  // namespace ilk
