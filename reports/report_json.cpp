#include <fmt/format.h>

#include "report.h"

namespace ilk {

using json = nlohmann::json;

json probe_report_json(const ProbeReport& r) {
    json facts = json::object();
    for (const auto& [id, f] : r.facts) {
        json j{{"measured", f.measured}, {"value", f.value}, {"elapsed_ms", f.elapsed_ms}, {"evidence", f.evidence}};
        if (!f.measured) j["reason"] = f.reason;
        facts[id] = std::move(j);
    }
    json primitives = json::array();
    for (const PrimitiveStatus& p : r.primitives) {
        json j{{"name", p.name}, {"plugin", p.plugin}, {"kind", p.kind}, {"supported", p.supported}};
        if (!p.supported) j["reason"] = p.reason;
        primitives.push_back(std::move(j));
    }
    json failures = json::array();
    for (const LoadFailure& f : r.load_failures) failures.push_back({{"library", f.library.string()}, {"cause", f.cause}});
    json comparisons = json::array();
    for (const Comparison& c : r.comparisons) {
        json j{{"fact", c.fact_id},
               {"pattern", c.expectation.fact},
               {"outcome", std::string(to_string(c.outcome))},
               {"expected", c.expectation.value},
               {"observed", c.observed},
               {"source", c.expectation.source},
               {"where", fmt::format("{}:{}:{}", c.expectation.where.file, c.expectation.where.line, c.expectation.where.column)}};
        if (!c.reason.empty()) j["reason"] = c.reason;
        if (!c.expectation.known_deviation.empty()) j["known_deviation"] = c.expectation.known_deviation;
        comparisons.push_back(std::move(j));
    }
    json profile = nullptr;
    if (!r.profile.empty()) profile = {{"name", r.profile}, {"file", r.profile_file.string()}, {"comparisons", comparisons}};
    return {
        {"schema_version", kProbeSchemaVersion},
        {"kind", "ilk-probe"},
        {"host", r.host},
        {"target", r.target},
        {"primitives", primitives},
        {"plugin_load_failures", failures},
        {"facts", facts},
        {"profile", profile},
        {"cleaned_before_run", r.cleaned},
        {"elapsed_ms", r.elapsed_ms},
        {"interrupted", r.interrupted},
    };
}

}  // namespace ilk
