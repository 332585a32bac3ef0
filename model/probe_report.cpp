#include "probe_report.h"

#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace ilk {

using json = nlohmann::json;

std::string to_string(const SourceLocation& where) {
    if (where.file.empty() && where.line == 0 && where.column == 0) return "";
    return fmt::format("{}:{}:{}", where.file, where.line, where.column);
}

bool is_bound(const json& expected) { return expected.is_object() && expected.contains(kBoundKey); }

std::string expected_text(const json& expected) {
    const auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
    if (is_bound(expected)) return "at most " + dump(expected.at(kBoundKey));
    return dump(expected);
}

namespace {

constexpr Outcome kOutcomes[] = {Outcome::match,      Outcome::deviation, Outcome::known_deviation, Outcome::unexpectedly_conforms,
                                 Outcome::unmeasured, Outcome::absent};

}  // namespace

std::string_view to_string(Outcome o) {
    switch (o) {
        case Outcome::match: return "match";
        case Outcome::deviation: return "deviation";
        case Outcome::known_deviation: return "known_deviation";
        case Outcome::unexpectedly_conforms: return "unexpectedly_conforms";
        case Outcome::unmeasured: return "unmeasured";
        case Outcome::absent: return "absent";
    }
    return "unknown";
}

std::optional<Outcome> outcome_from_string(std::string_view name) {
    for (const Outcome o : kOutcomes)
        if (to_string(o) == name) return o;
    return std::nullopt;
}

bool is_deviation(Outcome o) { return o == Outcome::deviation || o == Outcome::unexpectedly_conforms; }

json to_json(const ProbeReport& r) {
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
    for (const PluginLoadFailure& f : r.load_failures) failures.push_back({{"library", f.library.string()}, {"cause", f.cause}});
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
        if (!c.expectation.targets.empty()) j["claimed_for"] = c.expectation.targets;
        comparisons.push_back(std::move(j));
    }
    json profile = nullptr;
    if (r.compared()) profile = {{"name", r.profile}, {"file", r.profile_file.string()}, {"comparisons", comparisons}};
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

namespace {

// Reads one object of a probe report: a member of the wrong type is absent.
// With `steal`, free-form JSON parts are moved out of the document, not copied.
struct Tolerant {
    const json& j;
    bool steal = false;

    const json* member(const char* key) const {
        if (!j.is_object()) return nullptr;
        const auto it = j.find(key);
        return it == j.end() ? nullptr : &*it;
    }
    std::string string(const char* key) const {
        const json* v = member(key);
        return v && v->is_string() ? v->get<std::string>() : std::string();
    }
    bool boolean(const char* key, bool fallback = false) const {
        const json* v = member(key);
        return v && v->is_boolean() ? v->get<bool>() : fallback;
    }
    double number(const char* key) const {
        const json* v = member(key);
        return v && v->is_number() ? v->get<double>() : 0;
    }
    // Any JSON: values, claims and observations have no fixed type.
    json any(const char* key) const {
        const json* v = member(key);
        if (!v) return nullptr;
        return steal ? std::move(const_cast<json&>(*v)) : *v;
    }
    // An object, or `fallback` for anything else.
    json object(const char* key, json fallback) const {
        const json* v = member(key);
        if (!v || !v->is_object()) return fallback;
        return steal ? std::move(const_cast<json&>(*v)) : *v;
    }
    Tolerant sub(const char* key) const {
        static const json none;
        const json* v = member(key);
        return {v ? *v : none, steal};
    }
    // The elements of an array member (none when it is not an array).
    const json& array(const char* key) const {
        static const json empty = json::array();
        const json* v = member(key);
        return v && v->is_array() ? *v : empty;
    }
};

// "file:line:col" back into its parts; the file may hold colons, the numbers
// do not. Anything else is a file without a position.
SourceLocation read_location(const std::string& text) {
    const auto number = [](std::string_view s, int& out) {
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return !s.empty() && ec == std::errc() && end == s.data() + s.size();
    };
    const size_t second = text.rfind(':');
    const size_t first = second == std::string::npos || second == 0 ? std::string::npos : text.rfind(':', second - 1);
    SourceLocation where;
    if (first != std::string::npos && number(std::string_view(text).substr(first + 1, second - first - 1), where.line) &&
        number(std::string_view(text).substr(second + 1), where.column)) {
        where.file = text.substr(0, first);
        return where;
    }
    return {text, 0, 0};
}

std::optional<Comparison> read_comparison(const Tolerant& c) {
    if (!c.j.is_object()) return std::nullopt;
    const std::optional<Outcome> outcome = outcome_from_string(c.string("outcome"));
    if (!outcome) return std::nullopt;  // nothing to say about a claim without its outcome
    Comparison out{};
    out.fact_id = c.string("fact");
    out.outcome = *outcome;
    out.observed = c.any("observed");
    out.reason = c.string("reason");
    out.expectation.fact = c.string("pattern");
    out.expectation.value = c.any("expected");
    out.expectation.source = c.string("source");
    out.expectation.known_deviation = c.string("known_deviation");
    if (const json* t = c.member("claimed_for"); t && t->is_array())
        for (const json& name : *t)
            if (name.is_string()) out.expectation.targets.push_back(name.get<std::string>());
    if (const json* where = c.member("where"); where && where->is_string()) out.expectation.where = read_location(where->get<std::string>());
    return out;
}

std::optional<ProbeReport> read_probe(const Tolerant& p) {
    if (!p.j.is_object()) return std::nullopt;
    ProbeReport r;
    r.host = p.object("host", nullptr);
    r.target = p.object("target", nullptr);
    for (const json& e : p.array("primitives")) {
        if (!e.is_object()) continue;
        const Tolerant s{e, p.steal};
        r.primitives.push_back({s.string("name"), s.string("plugin"), s.string("kind"), s.boolean("supported"), false, s.string("reason")});
    }
    for (const json& e : p.array("plugin_load_failures"))
        if (e.is_object()) r.load_failures.push_back({Tolerant{e}.string("library"), Tolerant{e}.string("cause")});
    if (const json* facts = p.member("facts"); facts && facts->is_object())
        for (const auto& [id, v] : facts->items()) {
            // A fact that is not an object keeps its id, with every part absent.
            const Tolerant f{v, p.steal};
            Fact fact;
            fact.id = id;
            fact.measured = f.boolean("measured");
            fact.value = f.any("value");
            fact.reason = f.string("reason");
            fact.evidence = f.object("evidence", json::object());
            fact.elapsed_ms = f.number("elapsed_ms");
            r.facts.emplace(id, std::move(fact));
        }
    const Tolerant profile = p.sub("profile");
    if (profile.j.is_object()) {
        r.profile = profile.string("name");
        r.profile_file = profile.string("file");
        for (const json& c : profile.array("comparisons"))
            if (std::optional<Comparison> read = read_comparison({c, p.steal})) r.comparisons.push_back(std::move(*read));
    }
    for (const json& c : p.array("cleaned_before_run"))
        if (c.is_string()) r.cleaned.push_back(c.get<std::string>());
    r.elapsed_ms = p.number("elapsed_ms");
    r.interrupted = p.boolean("interrupted");
    return r;
}

}  // namespace

std::optional<ProbeReport> probe_from_json(const json& j) { return read_probe({j, false}); }

std::optional<ProbeReport> probe_from_json(json&& j) { return read_probe({j, true}); }

}  // namespace ilk
