// `ilk run`: every chosen strategy x scenario on a target, with verdicts and
// counterexample files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/explorer.h"
#include "probe.h"

namespace ilk {

struct RunOptions {
    std::vector<std::string> strategies;  // empty: all
    std::vector<std::string> scenarios;   // empty: all
    std::filesystem::path target;
    ScheduleOptions schedule;
    std::filesystem::path counterexample_dir;
    std::filesystem::path contender_binary;  // default: this executable
    bool progress = false;                   // a line per cell on stderr
};

struct RunReport {
    nlohmann::json host, target;
    std::vector<PrimitiveStatus> primitives;
    std::vector<CellResult> cells;
    std::string schedule;  // "exhaustive (preemption bound 2, 1 fault)"
    double elapsed_ms = 0;
    bool interrupted = false;
};

RunReport run_matrix(const Registry& registry, Journal& journal, const std::vector<StrategySpec>& strategies,
                     const RunOptions& options);

nlohmann::json run_report_json(const RunReport& r);
std::string run_report_text(const RunReport& r, bool color);

// A counterexample as a file; returns the path written.
std::filesystem::path write_counterexample(const Counterexample& cx, const std::filesystem::path& dir);

}  // namespace ilk
