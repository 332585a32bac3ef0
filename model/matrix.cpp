#include "matrix.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "json_number.h"

namespace ilk {

using json = nlohmann::json;

bool safe_is_partial(const StrategyCell& cell) {
    if (cell.verdict != Verdict::SAFE) return false;
    for (const ScenarioResult& s : cell.scenarios)
        if (s.verdict == Verdict::SAFE && !s.complete) return true;
    return false;
}

void fold_cell(StrategyCell& cell) {
    cell.verdict = Verdict::SAFE;
    cell.deciding_scenario.clear();
    cell.reason.clear();
    const ScenarioResult* worst = nullptr;
    for (const ScenarioResult& s : cell.scenarios)
        if (is_failure(s.verdict) && (!worst || severity(s.verdict) > severity(worst->verdict)))
            worst = &s;
    if (worst) {
        cell.verdict = worst->verdict;
        cell.deciding_scenario = worst->scenario;
        cell.reason = worst->reason;
        return;
    }
    std::vector<const ScenarioResult*> missing;
    int safe = 0;
    for (const ScenarioResult& s : cell.scenarios) {
        if (s.verdict == Verdict::UNSUPPORTED && s.matters) missing.push_back(&s);
        safe += s.verdict == Verdict::SAFE;
    }
    if (safe == 0) {  // nothing was shown SAFE, whatever the reasons
        cell.verdict = Verdict::UNSUPPORTED;
        if (!cell.scenarios.empty()) cell.deciding_scenario = cell.scenarios.front().scenario;
        cell.reason = cell.scenarios.empty() ? "no scenario was run" : cell.scenarios.front().reason;
    } else if (!missing.empty()) {
        cell.verdict = Verdict::UNSUPPORTED;
        cell.deciding_scenario = missing.front()->scenario;
        cell.reason = safe == 0 ? missing.front()->reason
                                : fmt::format("SAFE under {} scenario(s), but {} could not run: {}", safe, missing.size(),
                                              missing.front()->reason);
    }
}

FailureCount failure_count(const StrategyCell& cell) {
    FailureCount n;
    for (const ScenarioResult& s : cell.scenarios) {
        n.failed += is_failure(s.verdict) ? 1 : 0;
        n.judged += s.verdict != Verdict::UNSUPPORTED ? 1 : 0;
    }
    return n;
}

std::string count_label(std::string_view glyph, const StrategyCell& cell) {
    const FailureCount n = failure_count(cell);
    if (cell.verdict == Verdict::UNSUPPORTED && n.judged == 0) return std::string(glyph);
    return fmt::format("{} {}/{}", glyph, n.failed, n.judged);
}

std::vector<std::string> scenario_names(const MatrixReport& r) {
    std::vector<std::string> order;
    for (const ScenarioInfo& s : r.scenarios) order.push_back(s.name);
    for (const TargetResult& t : r.targets)
        for (const StrategyCell& c : t.cells)
            for (const ScenarioResult& s : c.scenarios)
                if (std::find(order.begin(), order.end(), s.scenario) == order.end()) order.push_back(s.scenario);
    return order;
}

namespace {

bool fails(const StrategyCell& c, const std::string& scenario) {
    return std::any_of(c.scenarios.begin(), c.scenarios.end(),
                       [&](const ScenarioResult& s) { return s.scenario == scenario && is_failure(s.verdict); });
}

bool was_run(const StrategyCell& c) { return failure_count(c).judged > 0; }
}  // namespace

std::vector<StrategyFailures> strategy_failures(const MatrixReport& r) {
    const std::vector<std::string> order = scenario_names(r);
    std::vector<StrategyFailures> out;
    for (const std::string& name : strategy_names(r)) {
        StrategyFailures f{name, {}, {}, {}};
        std::vector<const StrategyCell*> cells;
        for (const TargetResult& t : r.targets)
            for (const StrategyCell& c : t.cells)
                if (c.strategy == name && was_run(c)) {
                    cells.push_back(&c);
                    f.targets.push_back(t.name);
                }
        if (cells.empty()) continue;
        for (const std::string& sc : order) {
            const auto n = std::count_if(cells.begin(), cells.end(), [&](const StrategyCell* c) { return fails(*c, sc); });
            if (n == static_cast<long>(cells.size())) f.everywhere.push_back(sc);
            else if (n > 0) f.somewhere.push_back(sc);
        }
        out.push_back(std::move(f));
    }
    return out;
}

std::vector<TargetSummary> target_summaries(const MatrixReport& r) {
    const std::vector<std::string> order = scenario_names(r);
    bool several_platforms = false;
    for (const TargetResult& t : r.targets) several_platforms |= t.platform != r.targets.front().platform;
    std::vector<TargetSummary> out;
    for (const TargetResult& t : r.targets) {
        TargetSummary sum{several_platforms ? t.platform + ":" + t.name : t.name, {}, 0, {}};
        int fewest = -1;
        for (const StrategyCell& c : t.cells) {
            if (!was_run(c)) continue;
            if (c.verdict == Verdict::SAFE) sum.safe.push_back(c.strategy);
            const int n = failure_count(c).failed;
            if (n > 0 && (fewest < 0 || n < fewest)) fewest = n;
        }
        if (sum.safe.empty() && fewest > 0) {
            sum.fewest = fewest;
            for (const StrategyCell& c : t.cells) {
                if (!was_run(c) || failure_count(c).failed != fewest) continue;
                std::vector<std::string> failing;
                for (const std::string& sc : order)
                    if (fails(c, sc)) failing.push_back(sc);
                sum.best.emplace_back(c.strategy, std::move(failing));
            }
        }
        if (!sum.safe.empty() || !sum.best.empty()) out.push_back(std::move(sum));
    }
    return out;
}

std::string summary_line(const TargetSummary& s) {
    if (!s.safe.empty()) return fmt::format("{}: SAFE: {}", s.target, fmt::join(s.safe, ", "));
    std::vector<std::string> parts;
    for (const auto& [strategy, failing] : s.best) parts.push_back(fmt::format("{} ({})", strategy, fmt::join(failing, ", ")));
    return fmt::format("{}: none SAFE; fewest failing scenarios ({}): {}", s.target, s.fewest, fmt::join(parts, "; "));
}

std::vector<const FoundViolation*> other_findings(const ScenarioResult& s) {
    std::vector<const FoundViolation*> out;
    for (const FoundViolation& v : s.findings)
        if (!(v.schedule == s.schedule && v.verdict == s.verdict && v.variant == s.variant)) out.push_back(&v);
    return out;
}

std::vector<NeverTold> never_told_findings(const MatrixReport& r) {
    std::vector<NeverTold> out;
    for (const TargetResult& t : r.targets)
        for (const StrategyCell& c : t.cells)
            for (const ScenarioResult& s : c.scenarios) {
                std::vector<FoundViolation> found = s.findings;
                // A report whose findings do not carry it (older ones): the result's own.
                if (s.never_told && std::none_of(found.begin(), found.end(), [](const FoundViolation& f) { return f.never_told; }))
                    found.push_back({"exclusion", s.verdict, s.variant, s.schedule, s.reason, s.counterexample, s.exposure_ms, s.holder_saw, true});
                for (const FoundViolation& f : found) {
                    if (!f.never_told) continue;
                    auto it = std::find_if(out.begin(), out.end(), [&](const NeverTold& n) {
                        return n.strategy == c.strategy && n.scenario == s.scenario && n.variant == f.variant;
                    });
                    if (it == out.end()) it = out.insert(out.end(), NeverTold{c.strategy, s.scenario, f.variant, {}, f.holder_saw, f.exposure_ms});
                    if (std::find(it->targets.begin(), it->targets.end(), t.name) == it->targets.end()) it->targets.push_back(t.name);
                    it->exposure_ms = std::max(it->exposure_ms, f.exposure_ms);
                }
            }
    return out;
}

std::vector<Disagreement> disagreements(const MatrixReport& r) {
    std::vector<Disagreement> out;
    auto judged = [](const ScenarioResult& s) { return s.verdict != Verdict::UNSUPPORTED && s.verdict != Verdict::ERROR; };
    for (const StrategyInfo& info : r.strategies) {
        if (info.model.empty()) continue;
        for (const TargetResult& t : r.targets) {
            const StrategyCell* server = nullptr;
            const StrategyCell* model = nullptr;
            for (const StrategyCell& c : t.cells) {
                if (c.strategy == info.name) server = &c;
                if (c.strategy == info.model) model = &c;
            }
            if (!server || !model) continue;
            for (const ScenarioResult& s : server->scenarios)
                for (const ScenarioResult& m : model->scenarios) {
                    if (m.scenario != s.scenario || !judged(s) || !judged(m) || m.verdict == s.verdict) continue;
                    std::string note;
                    for (const std::string& d : info.differences)
                        if (d.rfind(s.scenario + ": ", 0) == 0) note = d.substr(s.scenario.size() + 2);
                    out.push_back({info.name, info.model, t.name, s.scenario, &s, &m, note});
                }
        }
    }
    return out;
}

std::string result_words(const ScenarioResult& s) { return s.reason.empty() ? s.coverage : s.reason; }

std::string exposure_text(double exposure_ms) {
    if (exposure_ms < 0) return "not measured";
    return fmt::format("at least {:.1f} s (until the kit ended the trial: nothing in the holder would have)", exposure_ms / 1000);
}

std::string variants_text(const ScenarioResult& s) {
    if (s.variants.size() < 2) return "";
    std::vector<std::string> parts;
    for (const VariantVerdict& v : s.variants)
        parts.push_back(fmt::format("{} {}{}", v.variant.empty() ? "(none)" : v.variant, to_string(v.verdict), v.never_told ? " (never told)" : ""));
    return fmt::format("{}", fmt::join(parts, ", "));
}

namespace {

json scenario_json(const ScenarioResult& s) {
    json j{{"scenario", s.scenario},      {"verdict", std::string(to_string(s.verdict))},
           {"schedules", s.schedules},    {"faults", s.faults},
           {"complete", s.complete},      {"reason", s.reason},
           {"elapsed_ms", s.elapsed_ms},  {"counterexample", s.counterexample.empty() ? json(nullptr) : json(s.counterexample)}};
    if (s.verdict == Verdict::UNSUPPORTED) j["matters"] = s.matters;
    if (!s.variant.empty()) j["variant"] = s.variant;
    if (s.found_ms >= 0) j["found_ms"] = s.found_ms;
    if (s.exposure_ms >= 0) j["exposure_ms"] = s.exposure_ms;
    if (!s.holder_saw.empty()) {
        j["holder_saw"] = s.holder_saw;
        j["never_told"] = s.never_told;
    }
    if (!s.coverage.empty()) j["coverage"] = s.coverage;
    if (!s.schedule.empty()) j["schedule"] = s.schedule;
    if (!s.transcript.is_null()) j["transcript"] = s.transcript;
    if (!s.findings.empty()) {
        j["findings"] = json::array();
        for (const FoundViolation& f : s.findings) {
            json fj{{"kind", f.kind},
                    {"verdict", std::string(to_string(f.verdict))},
                    {"variant", f.variant},
                    {"schedule", f.schedule},
                    {"explanation", f.explanation},
                    {"counterexample", f.counterexample.empty() ? json(nullptr) : json(f.counterexample)}};
            if (f.exposure_ms >= 0) fj["exposure_ms"] = f.exposure_ms;
            if (!f.holder_saw.empty()) {
                fj["holder_saw"] = f.holder_saw;
                fj["never_told"] = f.never_told;
            }
            j["findings"].push_back(std::move(fj));
        }
    }
    if (!s.variants.empty()) {
        j["variants"] = json::array();
        for (const VariantVerdict& v : s.variants) {
            json vj{{"variant", v.variant}, {"verdict", std::string(to_string(v.verdict))}, {"schedules", v.schedules}};
            if (v.exposure_ms >= 0) vj["exposure_ms"] = v.exposure_ms;
            if (v.never_told) vj["never_told"] = true;
            if (!v.outcomes.empty()) {
                vj["outcomes"] = json::array();
                for (const auto& [outcome, trials] : v.outcomes) vj["outcomes"].push_back({{"outcome", outcome}, {"trials", trials}});
            }
            j["variants"].push_back(std::move(vj));
        }
    }
    return j;
}

// Reads with a path in every error message.
struct Reader {
    const json& j;
    std::string where;
    // Only from matrix_from_json(json&&), whose document is ours to take
    // apart: large subtrees (probe, transcript) are moved out, not copied.
    bool steal = false;
    const json* member(const char* key) const {
        if (!j.is_object()) return nullptr;
        const auto it = j.find(key);
        return it == j.end() ? nullptr : &*it;
    }
    const json& at(const char* key) const {
        if (!j.is_object()) throw std::runtime_error(fmt::format("{}: not an object", where));
        if (!j.contains(key)) throw std::runtime_error(fmt::format("{}: no key '{}'", where, key));
        return j.at(key);
    }
    template <class T>
    T get(const char* key) const {
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
            // A number T does not hold (1e300 for an int) is refused: get<T>() of it is undefined.
            if (const json& v = at(key); v.is_number()) {
                if (const std::optional<T> n = json_number<T>(v)) return *n;
                throw std::runtime_error(fmt::format("{}.{}: {} is out of range", where, key, v.dump()));
            }
        }
        try {
            return at(key).get<T>();
        } catch (const json::exception& e) {
            throw std::runtime_error(fmt::format("{}.{}: {}", where, key, e.what()));
        }
    }
    template <class T>
    T opt(const char* key, T fallback) const {
        if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return fallback;
        if constexpr (std::is_same_v<T, json>)
            if (steal) return std::move(const_cast<json&>(j.at(key)));
        return get<T>(key);
    }
    Reader sub(const char* key, size_t i) const { return {at(key).at(i), fmt::format("{}.{}[{}]", where, key, i), steal}; }
    size_t size(const char* key) const {
        if (!j.is_object() || !j.contains(key)) return 0;
        if (!j.at(key).is_array()) throw std::runtime_error(fmt::format("{}.{}: not an array", where, key));
        return j.at(key).size();
    }
};

Verdict read_verdict(const Reader& r) {
    const std::string name = r.get<std::string>("verdict");
    try {
        return verdict_from_string(name);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("{}.verdict: {}", r.where, e.what()));
    }
}

TargetResult read_target(const Reader& t) {
    TargetResult tr;
    tr.name = t.get<std::string>("name");
    tr.kind = t.opt<std::string>("kind", "directory");
    tr.platform = t.get<std::string>("platform");
    tr.host = t.opt<std::string>("host", "");
    tr.source = t.opt<std::string>("source", "");
    tr.info = t.opt<json>("info", json::object());
    tr.unsupported = t.opt<std::string>("unsupported", "");
    tr.segments_only = t.opt<bool>("segments_only", false);
    tr.elapsed_ms = t.opt<double>("elapsed_ms", 0);
    if (const json* probe = t.member("probe"))
        tr.probe = t.steal ? probe_from_json(std::move(const_cast<json&>(*probe))) : probe_from_json(*probe);
    for (size_t k = 0; k < t.size("cells"); ++k) {
        const Reader c = t.sub("cells", k);
        StrategyCell cell;
        cell.strategy = c.get<std::string>("strategy");
        cell.verdict = read_verdict(c);
        cell.deciding_scenario = c.opt<std::string>("deciding_scenario", "");
        cell.reason = c.opt<std::string>("reason", "");
        for (size_t m = 0; m < c.size("scenarios"); ++m) {
            const Reader s = c.sub("scenarios", m);
            ScenarioResult sr;
            sr.scenario = s.get<std::string>("scenario");
            sr.verdict = read_verdict(s);
            sr.schedules = s.opt<int>("schedules", 0);
            sr.faults = s.opt<int>("faults", 0);
            sr.complete = s.opt<bool>("complete", true);
            sr.coverage = s.opt<std::string>("coverage", "");
            sr.matters = s.opt<bool>("matters", true);
            sr.reason = s.opt<std::string>("reason", "");
            sr.variant = s.opt<std::string>("variant", "");
            sr.schedule = s.opt<std::vector<std::string>>("schedule", {});
            sr.counterexample = s.opt<std::string>("counterexample", "");
            sr.transcript = s.opt<json>("transcript", nullptr);
            sr.elapsed_ms = s.opt<double>("elapsed_ms", 0);
            sr.found_ms = s.opt<double>("found_ms", -1);
            sr.exposure_ms = s.opt<double>("exposure_ms", -1);
            sr.holder_saw = s.opt<std::string>("holder_saw", "");
            sr.never_told = s.opt<bool>("never_told", false);
            for (size_t q = 0; q < s.size("findings"); ++q) {
                const Reader f = s.sub("findings", q);
                sr.findings.push_back({f.get<std::string>("kind"), read_verdict(f), f.opt<std::string>("variant", ""),
                                       f.opt<std::vector<std::string>>("schedule", {}), f.opt<std::string>("explanation", ""),
                                       f.opt<std::string>("counterexample", ""), f.opt<double>("exposure_ms", -1),
                                       f.opt<std::string>("holder_saw", ""), f.opt<bool>("never_told", false)});
            }
            for (size_t q = 0; q < s.size("variants"); ++q) {
                const Reader v = s.sub("variants", q);
                sr.variants.push_back({v.get<std::string>("variant"), read_verdict(v), v.opt<int>("schedules", 0),
                                       v.opt<bool>("never_told", false), v.opt<double>("exposure_ms", -1), {}});
                for (size_t k = 0; k < v.size("outcomes"); ++k) {
                    const Reader o = v.sub("outcomes", k);
                    sr.variants.back().outcomes.emplace_back(o.get<std::string>("outcome"), o.get<int>("trials"));
                }
            }
            cell.scenarios.push_back(std::move(sr));
        }
        tr.cells.push_back(std::move(cell));
    }
    return tr;
}

}  // namespace

TargetResult target_from_json(const json& j, const std::string& where) { return read_target({j, where, false}); }

json to_json(const TargetResult& t) {
    json cells = json::array();
    for (const StrategyCell& c : t.cells) {
        json sc = json::array();
        for (const ScenarioResult& s : c.scenarios) sc.push_back(scenario_json(s));
        cells.push_back({{"strategy", c.strategy},
                         {"target", t.name},
                         {"verdict", std::string(to_string(c.verdict))},
                         {"deciding_scenario", c.deciding_scenario},
                         {"failed", failure_count(c).failed},
                         {"judged", failure_count(c).judged},
                         {"reason", c.reason},
                         {"scenarios", sc}});
    }
    return {{"name", t.name},       {"kind", t.kind},         {"platform", t.platform},
            {"host", t.host},       {"source", t.source},     {"info", t.info},
            {"unsupported", t.unsupported}, {"segments_only", t.segments_only}, {"elapsed_ms", t.elapsed_ms},
            {"probe", t.probe ? to_json(*t.probe) : json(nullptr)},     {"cells", cells}};
}

json to_json(const MatrixReport& r) {
    json strategies = json::array(), scenarios = json::array(), targets = json::array(), not_run = json::array();
    for (const StrategyInfo& s : r.strategies) {
        json sj{{"name", s.name}, {"summary", s.summary}, {"source", s.source}};
        if (!s.model.empty()) sj["model"] = s.model;
        if (!s.differences.empty()) sj["differences"] = s.differences;
        strategies.push_back(std::move(sj));
    }
    for (const ScenarioInfo& s : r.scenarios) scenarios.push_back({{"name", s.name}, {"summary", s.summary}});
    for (const TargetResult& t : r.targets) targets.push_back(to_json(t));
    for (const NotRunPlatform& p : r.not_run)
        not_run.push_back({{"name", p.name}, {"os", p.os}, {"summary", p.summary}, {"file", p.file}, {"claims", p.claims}, {"targets", p.targets}});
    return {{"schema_version", kMatrixSchemaVersion},
            {"kind", "ilk-matrix"},
            {"host", r.host},
            {"profile", r.profile},
            {"schedule", r.schedule},
            {"strategies", strategies},
            {"scenarios", scenarios},
            {"targets", targets},
            {"not_run", not_run},
            {"merged_from", r.merged_from},
            {"elapsed_ms", r.elapsed_ms},
            {"interrupted", r.interrupted}};
}

namespace {
MatrixReport read_matrix(const Reader& top);
}  // namespace

MatrixReport matrix_from_json(const json& j) { return read_matrix(Reader{j, "report"}); }

MatrixReport matrix_from_json(json&& j) { return read_matrix(Reader{j, "report", true}); }

namespace {
MatrixReport read_matrix(const Reader& top) {
    if (top.opt<std::string>("kind", "") != "ilk-matrix")
        throw std::runtime_error("not an ilk matrix report (its \"kind\" is not \"ilk-matrix\"; write one with ilk run --format json)");
    const int version = top.get<int>("schema_version");
    if (version != kMatrixSchemaVersion)
        throw std::runtime_error(fmt::format("schema version {} is not supported (this ilk reads version {})", version, kMatrixSchemaVersion));
    MatrixReport r;
    r.host = top.opt<json>("host", json::object());
    r.profile = top.opt<std::string>("profile", "");
    r.schedule = top.opt<std::string>("schedule", "");
    r.elapsed_ms = top.opt<double>("elapsed_ms", 0);
    r.interrupted = top.opt<bool>("interrupted", false);
    r.merged_from = top.opt<std::vector<std::string>>("merged_from", {});
    for (size_t i = 0; i < top.size("strategies"); ++i) {
        const Reader s = top.sub("strategies", i);
        r.strategies.push_back({s.get<std::string>("name"), s.opt<std::string>("summary", ""), s.opt<std::string>("source", ""),
                                s.opt<std::string>("model", ""), {}});
        for (size_t k = 0; k < s.size("differences"); ++k) r.strategies.back().differences.push_back(s.at("differences").at(k).get<std::string>());
    }
    for (size_t i = 0; i < top.size("scenarios"); ++i) {
        const Reader s = top.sub("scenarios", i);
        r.scenarios.push_back({s.get<std::string>("name"), s.opt<std::string>("summary", "")});
    }
    for (size_t i = 0; i < top.size("targets"); ++i) {
        const Reader t = top.sub("targets", i);
        r.targets.push_back(read_target(t));
    }
    for (size_t i = 0; i < top.size("not_run"); ++i) {
        const Reader p = top.sub("not_run", i);
        r.not_run.push_back({p.get<std::string>("name"), p.opt<std::string>("os", ""), p.opt<std::string>("summary", ""),
                             p.opt<std::string>("file", ""), p.opt<int>("claims", 0), p.opt<std::vector<std::string>>("targets", {})});
    }
    return r;
}

}  // namespace

std::vector<Column> columns(const MatrixReport& r) {
    std::vector<Column> out;
    for (const TargetResult& t : r.targets) {
        auto it = std::find_if(out.begin(), out.end(), [&](const Column& c) { return c.platform == t.platform && c.target == t.name; });
        if (it == out.end()) it = out.insert(out.end(), Column{t.platform, t.name, {}});
        it->results.push_back(&t);
    }
    return out;
}

std::vector<const StrategyCell*> cells_of(const Column& c, const std::string& strategy) {
    std::vector<const StrategyCell*> out;
    for (const TargetResult* t : c.results) {
        const auto it = std::find_if(t->cells.begin(), t->cells.end(), [&](const StrategyCell& s) { return s.strategy == strategy; });
        out.push_back(it == t->cells.end() ? nullptr : &*it);
    }
    return out;
}

bool conflicting(const Column& c, const std::string& strategy) {
    std::set<Verdict> seen;
    for (const StrategyCell* cell : cells_of(c, strategy))
        if (cell) seen.insert(cell->verdict);
    return seen.size() > 1;
}

std::vector<std::string> strategy_names(const MatrixReport& r) {
    std::vector<std::string> out;
    auto add = [&](const std::string& n) {
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    };
    for (const StrategyInfo& s : r.strategies) add(s.name);
    for (const TargetResult& t : r.targets)
        for (const StrategyCell& c : t.cells) add(c.strategy);
    return out;
}

}  // namespace ilk
