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

// The advice for people: the directory, its filesystem and mount options, the
// recommendation and its reasons, then every strategy with its verdict.
std::string advice_text(const TargetResult& target, const Advice& advice, bool color);

}  // namespace ilk
