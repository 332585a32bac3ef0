// `ilk advise`: from the matrix column of one directory, the strategy to use
// there, with the reasons and the cells behind it, or the word that none is
// safe (and which fails least, and how).
#pragma once

#include <string>
#include <vector>

#include "matrix.h"

namespace ilk {

struct Advice {
    std::string recommended;                // a SAFE strategy, or empty when none is SAFE
    std::vector<std::string> also_safe;     // other SAFE strategies, best first
    std::string least_bad;                  // none SAFE: the strategy whose failures are fewest and mildest
    std::vector<const StrategyCell*> ranked;  // every cell, best first
};

// Rank the cells of `target`: SAFE before UNSUPPORTED before ERROR/STUCK/UNSAFE;
// among equals, fewer failing scenarios, then more scenarios shown SAFE, then
// more schedules explored, then the order of the strategies file.
Advice advise(const TargetResult& target, const std::vector<std::string>& strategy_order);

// NFS mount options as they decide locking: the version and where locks are
// kept (nfs(5): local_lock=none|flock|posix|all; nolock is local_lock=all).
struct NfsLocking {
    std::string vers;        // "3", "4.2"; empty: not said
    std::string local_lock;  // "none", "flock", "posix", "all"
    bool nolock = false;
    bool operator==(const NfsLocking& o) const { return vers == o.vers && local_lock == o.local_lock; }
};
NfsLocking nfs_locking(const std::string& mount_options);

// The directory's column with the cells of a network mount's column added
// (the same strategy's scenarios from an NFS lab: servers on two clients), each
// cell folded again. Strategies the network column lacks keep their own.
TargetResult with_network_cells(const TargetResult& dir, const TargetResult& network);

// The advice for people: the directory, its filesystem and mount options, the
// recommendation and its reasons, then every strategy with its verdict. On NFS
// it also names the options that decide it, those that would make every
// lock-based strategy unsafe across clients, and the scenarios of servers on
// two clients (judged only when a network mount's cells were added).
// `skipped`: the scenarios the operator left out (--skip-scenario): the
// recommendation says it was not judged under them.
std::string advice_text(const TargetResult& target, const Advice& advice, bool color, const std::vector<std::string>& skipped = {});

}  // namespace ilk
