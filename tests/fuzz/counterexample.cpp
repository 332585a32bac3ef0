// Counterexample files, as ilk replay reads them from anywhere:
// Counterexample::from_json, then resolve_for_replay against the strategies
// defined here. Contract: a file is refused with a std::exception, or what
// will be replayed is this machine's own definition of a strategy, a scenario
// the kit has and one of its variants: never anything the file defines.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "engine/explorer.h"
#include "engine/real_server.h"
#include "engine/scenario.h"
#include "fuzz.h"

namespace {
const std::vector<ilk::StrategySpec>& defined() {
    static const std::vector<ilk::StrategySpec> all = ilk::load_strategies_and_servers();
    return all;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
    if (j.is_discarded()) return 0;
    ilk::Counterexample cx;
    try {
        cx = ilk::Counterexample::from_json(j);
        ilk::resolve_for_replay(cx, defined());
    } catch (const std::exception&) {
        return 0;
    }
    const auto same = std::find_if(defined().begin(), defined().end(), [&](const ilk::StrategySpec& d) {
        return nlohmann::json(d) == nlohmann::json(cx.strategy);
    });
    if (same == defined().end()) ilk::fuzz::broken("a replay would run a strategy defined by the file", nlohmann::json(cx.strategy).dump());
    const ilk::Scenario* s = ilk::find_scenario(cx.scenario);
    if (!s || std::find(s->variants.begin(), s->variants.end(), cx.variant) == s->variants.end())
        ilk::fuzz::broken("a replay would run a scenario or variant the kit does not have", cx.scenario + " " + cx.variant);
    return 0;
}
