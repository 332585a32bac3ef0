// The HTML report: one self-contained page to open from a report directory or
// attach to a ticket. Inline CSS, no script, nothing fetched (a CSP meta tag
// makes the browser refuse any network load, should a future edit add one).
// Every cell opens with <details> to its scenarios and their evidence, so the
// page reads without JS; every string from the model goes through esc().
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "probe_report.h"  // expected_text
#include "writers.h"

namespace ilk {

namespace {

using json = nlohmann::json;

std::string esc(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    return out;
}

// Reports are read back from files people edit: a value of the wrong type is
// shown as JSON rather than thrown at the reader.
std::string text(const json& j) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_null()) return "";
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const json& none() {
    static const json null;
    return null;
}

const json& field(const json& j, const char* key) { return j.is_object() && j.contains(key) ? j.at(key) : none(); }

// A counterexample path is a file, never a URL: percent-encoding ':' (with
// everything else a URL reserves) keeps "scheme:..." a relative path.
std::string file_href(const std::string& path) {
    std::string out;
    for (const unsigned char c : path) {
        if (std::isalnum(c) || std::string_view("-._~/+,=@").find(static_cast<char>(c)) != std::string_view::npos)
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return esc(out);
}

std::string duration(double ms) {
    if (ms < 1000) return fmt::format("{:.0f} ms", ms);
    if (ms < 60000) return fmt::format("{:.1f} s", ms / 1000);
    const long seconds = std::lround(ms / 1000);
    return fmt::format("{} min {} s", seconds / 60, seconds % 60);
}

std::string vclass(Verdict v) { return fmt::format("v-{}", to_string(v)); }

std::string origin(const TargetResult& t) { return esc(t.source.empty() ? t.host : fmt::format("{} ({})", t.host, t.source)); }

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}h1{font-size:1.5em;margin:0 0 .3em}
h2{margin-top:1.6em;border-bottom:1px solid #ccc}dl.info{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;margin:.4em 0}
dl.info dt{font-weight:600;color:#555}dl.info dd{margin:0}
.interrupted{background:#ffe082;border:2px solid #c77700;padding:.4em .8em;font-weight:700;display:inline-block}
table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:.3em .5em;vertical-align:top;text-align:left}
thead th{background:#eceff1}th.platform{text-align:center;background:#cfd8dc}th.strategy{background:#f5f5f5;white-space:nowrap}
td.cell{min-width:9em;max-width:32em}td.not-set-up{width:12em;min-width:0}td.cell summary{cursor:pointer;white-space:nowrap}
.verdict{font-weight:700;letter-spacing:.03em}.deciding{display:block;font-size:.85em}
.tag{font-weight:700;padding:0 .35em;border-radius:3px;font-size:.85em}.v-SAFE{background:#c8e6c9;color:#1b5e20}
.v-UNSAFE{background:#ffcdd2;color:#b71c1c}.v-STUCK{background:#ffe082;color:#7a4a00}.v-ERROR{background:#f8c0f8;color:#8b008b}
.v-UNSUPPORTED{background:#e0e0e0;color:#555}td.cell.v-UNSAFE{border-left:4px solid #d32f2f}td.cell.v-ERROR{border-left:4px solid #c000c0}
td.cell.v-STUCK{border-left:4px solid #f9a825}
td.conflict{background:repeating-linear-gradient(135deg,#ffd0d0 0 8px,#ffe8a8 8px 16px);border:3px solid #b71c1c;color:#222}
.tag.conflict{background:repeating-linear-gradient(135deg,#ffd0d0 0 4px,#ffe8a8 4px 8px);border:1px solid #b71c1c}
td.conflict ul{margin:.3em 0;padding-left:1em}li.result{background:rgba(255,255,255,.85);margin:.2em 0;padding:.1em .3em}
td.none{color:#888;font-style:italic}
.scenario{border:1px solid #ccc;border-radius:4px;background:#fff;color:#222;margin:.4em 0;padding:.3em .5em}
.scenario h4{margin:.1em 0;font-size:1em}ol.schedule{display:inline;padding:0;list-style:none}
ol.schedule li{display:inline-block;font-family:monospace;
border:1px solid #999;border-radius:3px;padding:0 .3em;margin:0 .15em;background:#f5f5f5}
ol.schedule li.kill{background:#ffcdd2;border-color:#b71c1c}table.steps{font-size:.85em;margin:.3em 0}
table.steps caption{text-align:left;font-weight:600}.reason{white-space:pre-wrap}code,pre{font-family:monospace;font-size:.9em}
pre{white-space:pre-wrap;margin:0}table.facts td:first-child{font-family:monospace}tr.deviation td{background:#ffd6d6}
tr.deviation td:first-child{border-left:4px solid #d32f2f}.outcome{font-weight:600}.muted{color:#777}.origin{color:#444}
section.target{border:1px solid #ddd;border-radius:6px;padding:.2em 1em .8em;margin:1em 0}p.not-set-up{font-weight:600;color:#7a4a00}
.count{font-weight:400;margin-left:.3em}table.grid{font-size:.8em;margin:.5em 0 1em}table.grid th.sc{writing-mode:vertical-rl;
transform:rotate(180deg);white-space:nowrap;font-weight:400}table.grid td.sq{padding:0;text-align:center;min-width:1.6em}
table.grid td.sq a{display:block;padding:.2em;color:inherit;text-decoration:none}table.grid td.none{background:#fafafa}
)";

std::string transcript_steps(const json& steps, const std::string& caption) {
    std::vector<std::string> keys;
    for (const json& s : steps)
        if (s.is_object())
            for (const auto& [k, v] : s.items())
                if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    // JSON objects keep keys sorted; a reader wants when, then what was done, then what was seen.
    const auto rank = [](const std::string& k) { return k == "decision" ? 0 : k == "step" ? 1 : k == "saw" ? 2 : 3; };
    std::stable_sort(keys.begin(), keys.end(), [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
    std::string out = fmt::format("<table class=\"steps\"><caption>{}</caption><tr>", caption);
    for (const std::string& k : keys) out += fmt::format("<th>{}</th>", esc(k));
    out += "</tr>";
    for (const json& s : steps) {
        out += "<tr>";
        for (const std::string& k : keys) out += fmt::format("<td>{}</td>", esc(text(field(s, k.c_str()))));
        out += "</tr>";
    }
    return out + "</table>";
}

// Contender -> steps, or contender -> {pid, steps, why} as trial.cpp writes it;
// anything else is shown as indented JSON rather than dropped.
std::string transcript_html(const json& t) {
    if (t.is_null() || t.empty()) return "";
    std::string out = "<div class=\"transcript\"><b>what each contender saw</b>";
    if (!t.is_object()) return out + fmt::format("<pre>{}</pre></div>", esc(t.dump(2, ' ', false, json::error_handler_t::replace)));
    for (const auto& [who, v] : t.items()) {
        const json& steps = v.is_array() ? v : field(v, "steps");
        if (!steps.is_array()) {
            out += fmt::format("<p>{}: <code>{}</code></p>", esc(who), esc(text(v)));
            continue;
        }
        std::string caption = esc(who);
        if (const json& pid = field(v, "pid"); !pid.is_null()) caption += fmt::format(" (pid {})", esc(text(pid)));
        if (const std::string why = text(field(v, "why")); !why.empty()) caption += fmt::format(": {}", esc(why));
        out += transcript_steps(steps, caption);
    }
    return out + "</div>";
}

// The id a grid square links to: target index, strategy, scenario.
std::string evidence_id(size_t target, const std::string& strategy, const std::string& scenario) {
    return esc(fmt::format("ev-{}-{}-{}", target, strategy, scenario));
}

std::string scenario_html(const ScenarioResult& s, const std::string& id) {
    std::string out = fmt::format(
        "<div class=\"scenario\" id=\"{}\" data-scenario=\"{}\"><h4><span class=\"tag {}\">{}</span> {}</h4><dl class=\"info\">", id, esc(s.scenario),
        vclass(s.verdict), to_string(s.verdict), esc(s.scenario));
    out += fmt::format("<dt>schedules</dt><dd>{}</dd><dt>faults</dt><dd>{}</dd>", s.schedules, s.faults);
    // The coverage says how far the search went; older reports have only the flag.
    if (!s.coverage.empty())
        out += fmt::format("<dt>coverage</dt><dd class=\"coverage\">{}</dd>", esc(s.coverage));
    else
        out += fmt::format("<dt>complete</dt><dd>{}</dd>", s.complete ? "yes" : "no: a SAFE here is partial (SAFE within the schedules run)");
    if (s.verdict == Verdict::UNSUPPORTED && !s.matters) out += "<dt>matters</dt><dd>no: does not count against this cell</dd>";
    if (!s.reason.empty()) out += fmt::format("<dt>reason</dt><dd class=\"reason\">{}</dd>", esc(s.reason));
    if (!s.variant.empty()) out += fmt::format("<dt>variant</dt><dd>{}</dd>", esc(s.variant));
    if (const std::string per = variants_text(s); !per.empty()) out += fmt::format("<dt>per variant</dt><dd class=\"variants\">{}</dd>", esc(per));
    if (!s.schedule.empty()) {
        out += "<dt>schedule</dt><dd><ol class=\"schedule\">";
        for (const std::string& d : s.schedule)
            out += d.starts_with('!') ? fmt::format("<li class=\"kill\" title=\"SIGKILL {0}\">{1}</li>", esc(d.substr(1)), esc(d))
                                      : fmt::format("<li title=\"{0} takes a step\">{0}</li>", esc(d));
        out += "</ol></dd>";
    }
    if (!s.counterexample.empty())
        out += fmt::format("<dt>counterexample</dt><dd><a class=\"counterexample\" href=\"{}\">{}</a></dd>", file_href(s.counterexample),
                           esc(s.counterexample));
    for (const FoundViolation* found : other_findings(s)) {
        const FoundViolation& v = *found;
        out += fmt::format("<dt>also found</dt><dd class=\"also\"><span class=\"tag {}\">{}</span> {}{}: {} <code>{}</code>", vclass(v.verdict),
                           to_string(v.verdict), esc(v.kind), v.variant.empty() ? "" : ", variant " + esc(v.variant), esc(v.explanation),
                           esc(fmt::format("{}", fmt::join(v.schedule, " "))));
        if (!v.counterexample.empty())
            out += fmt::format(" <a class=\"counterexample\" href=\"{}\">{}</a>", file_href(v.counterexample), esc(v.counterexample));
        out += "</dd>";
    }
    out += fmt::format("<dt>elapsed</dt><dd>{}</dd></dl>", duration(s.elapsed_ms));
    return out + transcript_html(s.transcript) + "</div>";
}

std::string scenarios_html(const StrategyCell& c, size_t target) {
    std::string out = c.reason.empty() ? "" : fmt::format("<p class=\"reason\">{}</p>", esc(c.reason));
    for (const ScenarioResult& s : c.scenarios) out += scenario_html(s, evidence_id(target, c.strategy, s.scenario));
    return out;
}

// What a result of a column says when it has no cell for the strategy.
std::string missing_text(const TargetResult& t) { return t.unsupported.empty() ? "no result" : "not set up: " + esc(t.unsupported); }

std::string cell_attrs(const Column& c, const std::string& strategy) {
    return fmt::format("data-strategy=\"{}\" data-target=\"{}\" data-platform=\"{}\"", esc(strategy), esc(c.target), esc(c.platform));
}

// Merged results that disagree: every one is listed, with where it came from.
std::string conflict_cell(const Column& c, const std::string& strategy, const std::map<const TargetResult*, size_t>& anchor) {
    std::string out = fmt::format("<td class=\"cell conflict\" {}><div class=\"verdict\">CONFLICT</div><ul class=\"results\">",
                                  cell_attrs(c, strategy));
    const auto cells = cells_of(c, strategy);
    for (size_t i = 0; i < cells.size(); ++i) {
        const StrategyCell* cell = cells[i];
        if (!cell) {
            out += fmt::format("<li class=\"result\">{} &middot; <span class=\"origin\">{}</span></li>", missing_text(*c.results[i]),
                               origin(*c.results[i]));
            continue;
        }
        out += fmt::format(
            "<li class=\"result\"><details><summary><span class=\"tag {}\">{}</span> {} &middot; "
            "<span class=\"origin\">{}</span></summary>{}</details></li>",
            vclass(cell->verdict), to_string(cell->verdict), esc(cell->deciding_scenario), origin(*c.results[i]),
            scenarios_html(*cell, anchor.at(c.results[i])));
    }
    return out + "</ul></td>";
}

std::string cell_html(const Column& c, const std::string& strategy, const std::map<const TargetResult*, size_t>& anchor) {
    if (conflicting(c, strategy)) return conflict_cell(c, strategy, anchor);
    const auto cells = cells_of(c, strategy);
    const auto first = std::find_if(cells.begin(), cells.end(), [](const StrategyCell* p) { return p != nullptr; });
    if (first == cells.end())
        return fmt::format("<td class=\"cell none\" {}>{}</td>", cell_attrs(c, strategy), missing_text(*c.results.front()));
    const StrategyCell& shown = **first;
    int schedules = 0, not_applicable = 0;
    bool capped = false;
    for (const ScenarioResult& s : shown.scenarios) {
        schedules += s.schedules;
        capped |= s.verdict == Verdict::SAFE && !s.complete;
        not_applicable += s.verdict == Verdict::UNSUPPORTED && !s.matters;
    }
    std::string under = esc(shown.deciding_scenario);
    if (shown.verdict == Verdict::SAFE)  // a SAFE cell's evidence is how much was tried
        under = fmt::format("{} schedules{}{}", schedules, capped ? ", cap reached" : "",
                            not_applicable ? fmt::format(", {} scenario(s) n/a", not_applicable) : "");
    const FailureCount n = failure_count(shown);
    const std::string count = n.judged == 0 ? "" : fmt::format("<span class=\"count\" title=\"failing scenarios of those judged\">{}/{}</span>", n.failed, n.judged);
    std::string out = fmt::format(
        "<td class=\"cell {}\" {} title=\"{}\"><details><summary><span class=\"verdict\">{}</span>{}"
        "<span class=\"deciding\">{}</span></summary>",
        vclass(shown.verdict), cell_attrs(c, strategy), esc(shown.reason), to_string(shown.verdict), count, under);
    for (size_t i = 0; i < cells.size(); ++i) {
        if (c.results.size() > 1) out += fmt::format("<p class=\"origin\"><b>from {}</b></p>", origin(*c.results[i]));
        out += cells[i] ? scenarios_html(*cells[i], anchor.at(c.results[i])) : fmt::format("<p class=\"muted\">{}</p>", missing_text(*c.results[i]));
    }
    return out + "</details></td>";
}

bool not_set_up(const Column& c) {
    return std::all_of(c.results.begin(), c.results.end(),
                       [](const TargetResult* t) { return !t->unsupported.empty() && t->cells.empty(); });
}

std::string matrix_html_table(const MatrixReport& r, std::vector<Column> cols, const std::map<const TargetResult*, size_t>& anchor) {
    // Columns of one platform sit together under one header group.
    std::vector<std::string> platforms;
    for (const Column& c : cols)
        if (std::find(platforms.begin(), platforms.end(), c.platform) == platforms.end()) platforms.push_back(c.platform);
    const auto rank = [&](const Column& c) { return std::find(platforms.begin(), platforms.end(), c.platform) - platforms.begin(); };
    std::stable_sort(cols.begin(), cols.end(), [&](const Column& a, const Column& b) { return rank(a) < rank(b); });
    const std::vector<std::string> strategies = strategy_names(r);

    std::string out = "<table class=\"matrix\" id=\"matrix-table\"><thead>";
    const bool grouped = platforms.size() > 1;
    if (grouped) {
        out += "<tr><th rowspan=\"2\">strategy \\ target</th>";
        for (const std::string& p : platforms)
            out += fmt::format("<th class=\"platform\" data-platform=\"{0}\" colspan=\"{1}\">{0}</th>", esc(p),
                               std::count_if(cols.begin(), cols.end(), [&](const Column& c) { return c.platform == p; }));
        out += "</tr>";
    }
    out += grouped ? "<tr>" : "<tr><th>strategy \\ target</th>";
    for (const Column& c : cols) {
        const TargetResult& t = *c.results.front();
        out += fmt::format("<th class=\"target\" data-target=\"{}\" data-platform=\"{}\"><a href=\"#target-{}\">{}</a>", esc(c.target),
                           esc(c.platform), anchor.at(&t), esc(c.target));
        if (const std::string fs = text(field(t.info, "fstype")); !fs.empty() && fs != c.target)
            out += fmt::format(" <small>{}</small>", esc(fs));
        if (c.results.size() > 1) out += fmt::format("<br><small>{} results</small>", c.results.size());
        out += "</th>";
    }
    out += "</tr></thead><tbody>";
    for (size_t row = 0; row < strategies.size(); ++row) {
        const std::string& s = strategies[row];
        const auto info = std::find_if(r.strategies.begin(), r.strategies.end(), [&](const StrategyInfo& i) { return i.name == s; });
        out += fmt::format("<tr><th class=\"strategy\" scope=\"row\" title=\"{}\">{}</th>",
                           info == r.strategies.end() ? "" : esc(info->summary), esc(s));
        for (const Column& c : cols) {
            if (!not_set_up(c))
                out += cell_html(c, s, anchor);
            else if (row == 0)  // one cell down the whole column: the reason once, not once per strategy
                out += fmt::format(
                    "<td class=\"cell v-UNSUPPORTED not-set-up\" rowspan=\"{}\" data-target=\"{}\" data-platform=\"{}\">"
                    "<span class=\"verdict\">UNSUPPORTED</span><br>not set up: {}</td>",
                    strategies.size(), esc(c.target), esc(c.platform), esc(c.results.front()->unsupported));
        }
        out += "</tr>";
    }
    return out + "</tbody></table>";
}

// One square of a grid: the verdict's colour, its first letter, the reason
// as its title, a link to its evidence in the matrix.
std::string square(const ScenarioResult* s, const std::string& id, const std::string& note = {}) {
    if (!s) return "<td class=\"sq none\"></td>";
    const std::string name(to_string(s->verdict));
    const char* mark = s->verdict == Verdict::SAFE ? "ok" : s->verdict == Verdict::UNSAFE ? "UNS" : s->verdict == Verdict::STUCK ? "STK"
                     : s->verdict == Verdict::ERROR ? "ERR" : "--";
    // The title is a glance (the evidence is a click away): its first 200 characters.
    std::string why = s->reason.empty() ? s->coverage : s->reason;
    if (why.size() > 200) why = why.substr(0, 197) + "...";
    return fmt::format("<td class=\"sq {}\" data-scenario=\"{}\" title=\"{}{}{}\"><a href=\"#{}\">{}</a></td>", vclass(s->verdict),
                       esc(s->scenario), name, why.empty() ? "" : ": " + esc(why), esc(note), id, mark);
}

const ScenarioResult* result_of(const StrategyCell* c, const std::string& scenario) {
    if (!c) return nullptr;
    for (const ScenarioResult& s : c->scenarios)
        if (s.scenario == scenario) return &s;
    return nullptr;
}

// Strategy x scenario, coloured by verdict: one grid per target, and one
// across them (each square the worst over the targets, linked to its first
// target with that verdict).
std::string grids_html(const MatrixReport& r) {
    const std::vector<std::string> scenarios = scenario_names(r);
    const std::vector<std::string> strategies = strategy_names(r);
    auto head = [&](const std::string& id, const std::string& caption) {
        std::string out = fmt::format("<table class=\"grid\" id=\"{}\"><caption>{}</caption><thead><tr><th>strategy</th>", id, caption);
        for (const std::string& sc : scenarios) out += fmt::format("<th class=\"sc\">{}</th>", esc(sc));
        return out + "<th>failing</th></tr></thead><tbody>";
    };
    std::string out = "<section id=\"grids\"><h2>Strategy &times; scenario</h2><p class=\"muted\">Each square is one scenario's "
                      "verdict (ok SAFE, UNS UNSAFE, STK STUCK, ERR ERROR, -- UNSUPPORTED or not applicable); its title is the reason, "
                      "and it links to its evidence in the matrix.</p>";
    std::vector<const TargetResult*> shown;
    for (const TargetResult& t : r.targets)
        if (!t.cells.empty()) shown.push_back(&t);
    if (shown.size() > 1) {
        out += head("grid-all", "across targets");
        for (const std::string& st : strategies) {
            out += fmt::format("<tr><th class=\"strategy\">{}</th>", esc(st));
            int failing = 0;
            for (const std::string& sc : scenarios) {
                const ScenarioResult* worst = nullptr;
                size_t where = 0;
                int failed_on = 0, run_on = 0;
                for (size_t i = 0; i < r.targets.size(); ++i)
                    for (const StrategyCell& c : r.targets[i].cells) {
                        if (c.strategy != st) continue;
                        const ScenarioResult* s = result_of(&c, sc);
                        if (!s) continue;
                        run_on += s->verdict != Verdict::UNSUPPORTED;
                        failed_on += is_failure(s->verdict);
                        if (!worst || severity(s->verdict) > severity(worst->verdict)) worst = s, where = i;
                    }
                failing += failed_on > 0;
                out += square(worst, evidence_id(where, st, sc), fmt::format(" (fails on {} of {} targets)", failed_on, run_on));
            }
            out += fmt::format("<td>{}</td></tr>", failing);
        }
        out += "</tbody></table>";
    }
    for (const TargetResult* t : shown) {
        const size_t index = static_cast<size_t>(t - r.targets.data());
        out += head(fmt::format("grid-{}", index), esc(fmt::format("{} ({})", t->name, t->platform)));
        for (const std::string& st : strategies) {
            const StrategyCell* cell = nullptr;
            for (const StrategyCell& c : t->cells)
                if (c.strategy == st) cell = &c;
            out += fmt::format("<tr><th class=\"strategy\">{}</th>", esc(st));
            for (const std::string& sc : scenarios) out += square(result_of(cell, sc), evidence_id(index, st, sc));
            out += cell ? fmt::format("<td>{}/{}</td></tr>", failure_count(*cell).failed, failure_count(*cell).judged) : "<td></td></tr>";
        }
        out += "</tbody></table>";
    }
    return out + "</section>\n";
}

// Per target, the strategies SAFE there or those that fail least; per strategy,
// what it fails everywhere it ran.
std::string verdict_summary_html(const MatrixReport& r) {
    const auto sums = target_summaries(r);
    const auto per = strategy_failures(r);
    if (sums.empty() && per.empty()) return "";
    std::string out = "<section id=\"verdict-summary\"><h2>Summary</h2><ul class=\"summary-lines\">";
    for (const TargetSummary& t : sums) out += fmt::format("<li class=\"summary-line\">{}</li>", esc(summary_line(t)));
    out += "</ul><table id=\"per-strategy\"><thead><tr><th>strategy</th><th>fails on every target it ran on</th><th>on some</th>"
           "<th>targets</th></tr></thead><tbody>";
    for (const StrategyFailures& f : per)
        out += fmt::format("<tr data-strategy=\"{}\"><th class=\"strategy\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>", esc(f.strategy),
                           esc(f.strategy), f.everywhere.empty() ? "none" : esc(fmt::format("{}", fmt::join(f.everywhere, ", "))),
                           esc(fmt::format("{}", fmt::join(f.somewhere, ", "))), f.targets.size());
    return out + "</tbody></table></section>\n";
}

std::string facts_html(const std::optional<ProbeReport>& probe) {
    if (!probe) return "<p class=\"muted\">no probe ran on this target</p>";
    std::map<std::string, const Comparison*> comparison;
    for (const Comparison& c : probe->comparisons) comparison.emplace(c.fact_id, &c);
    std::vector<std::string> ids;
    for (const auto& [id, f] : probe->facts) ids.push_back(id);
    for (const auto& [id, c] : comparison)
        if (!probe->facts.contains(id)) ids.push_back(id);  // compared but not in facts (absent)

    std::string out;
    if (probe->compared())
        out += fmt::format("<p>compared with profile <b>{}</b> (<code>{}</code>)</p>", esc(probe->profile), esc(probe->profile_file.string()));
    out += "<table class=\"facts\"><thead><tr><th>fact</th><th>observed here</th><th>profile</th></tr></thead><tbody>";
    for (const std::string& id : ids) {
        const auto fit = probe->facts.find(id);
        const Fact* f = fit == probe->facts.end() ? nullptr : &fit->second;
        const auto cit = comparison.find(id);
        const Comparison* c = cit == comparison.end() ? nullptr : cit->second;
        const std::string outcome = c ? std::string(to_string(c->outcome)) : "";
        const bool deviation = c && is_deviation(c->outcome);
        std::string value = !f              ? "<span class=\"muted\">absent</span>"
                            : !f->measured ? fmt::format("<span class=\"muted\">not measured: {}</span>", esc(f->reason))
                                           : fmt::format("<code>{}</code>", esc(text(f->value)));
        if (f && !f->evidence.is_null() && !f->evidence.empty())
            value += fmt::format("<details><summary>evidence</summary><pre>{}</pre></details>",
                                 esc(f->evidence.dump(2, ' ', false, json::error_handler_t::replace)));
        std::string cmp = outcome.empty() ? "" : fmt::format("<span class=\"outcome\">{}</span>", esc(outcome));
        if (deviation)
            cmp += fmt::format("<br>expected <code>{}</code>, observed <code>{}</code><br>source: {} <span class=\"muted\">{}</span>",
                               esc(expected_text(c->expectation.value)), esc(text(c->observed)), esc(c->expectation.source),
                               esc(to_string(c->expectation.where)));
        if (c && !c->expectation.known_deviation.empty()) cmp += fmt::format("<br>known: {}", esc(c->expectation.known_deviation));
        if (c && !c->reason.empty()) cmp += fmt::format("<br>{}", esc(c->reason));
        out += fmt::format("<tr class=\"fact{}\" data-fact=\"{}\" data-outcome=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                           deviation ? " deviation" : "", esc(id), esc(outcome), esc(id), value, cmp);
    }
    return out + "</tbody></table>";
}

std::string target_html(const TargetResult& t, size_t index) {
    std::string out = fmt::format(
        "<section class=\"target\" id=\"target-{}\" data-target=\"{}\" data-platform=\"{}\"><h3>{} <small>on {}, {}</small></h3>", index,
        esc(t.name), esc(t.platform), esc(t.name), esc(t.platform), origin(t));
    if (!t.unsupported.empty()) out += fmt::format("<p class=\"not-set-up\">not set up: {}</p>", esc(t.unsupported));
    out += fmt::format("<dl class=\"info\"><dt>kind</dt><dd>{}</dd><dt>segments only</dt><dd>{}</dd><dt>elapsed</dt><dd>{}</dd>",
                       esc(t.kind), t.segments_only ? "yes: holds segments, not a data directory" : "no", duration(t.elapsed_ms));
    std::vector<std::string> keys{"path", "fstype", "mount_options"};
    if (t.info.is_object())
        for (const auto& [k, v] : t.info.items())
            if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    for (const std::string& k : keys)
        if (const json& v = field(t.info, k.c_str()); !v.is_null()) out += fmt::format("<dt>{}</dt><dd>{}</dd>", esc(k), esc(text(v)));
    out += "</dl>";
    return out + facts_html(t.probe) + "</section>";
}

std::string legend_html(const MatrixReport& r) {
    std::string out = "<section id=\"legend\"><h2>Legend</h2><dl class=\"info\">";
    // The verdicts' meanings come from the verdict table; shown as a reader meets them, the failures by severity.
    for (const Verdict v : {Verdict::SAFE, Verdict::UNSAFE, Verdict::STUCK, Verdict::ERROR, Verdict::UNSUPPORTED})
        out += fmt::format("<dt><span class=\"tag {}\">{}</span></dt><dd>{}</dd>", vclass(v), to_string(v), verdict_meaning(v));
    out +=
        "<dt><span class=\"tag conflict\">CONFLICT</span></dt><dd>merged results for the same platform and target disagree; each is "
        "listed</dd></dl>"
        "<h3>Scenarios</h3><dl class=\"info\" id=\"scenarios\">";
    for (const ScenarioInfo& s : r.scenarios) out += fmt::format("<dt>{}</dt><dd>{}</dd>", esc(s.name), esc(s.summary));
    out +=
        "</dl><h3>Strategies</h3><table id=\"strategies\"><thead><tr><th>strategy</th><th>summary</th><th>source</th></tr></thead><tbody>";
    for (const StrategyInfo& s : r.strategies)
        out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(s.name), esc(s.summary), esc(s.source));
    return out + "</tbody></table></section>";
}

std::string not_run_html(const MatrixReport& r) {
    if (r.not_run.empty()) return "";
    std::string out =
        "<section id=\"not-run\"><h2>Platforms not run here</h2><p>Their profiles' claims are listed, never guessed into results.</p>"
        "<table><thead><tr><th>platform</th><th>status</th><th>claims</th><th>profile</th><th>its targets</th></tr></thead><tbody>";
    for (const NotRunPlatform& p : r.not_run) {
        std::vector<std::string> targets;
        for (const std::string& t : p.targets) targets.push_back(esc(t));
        out += fmt::format(
            "<tr class=\"not-run\" data-platform=\"{0}\"><td><b>{0}</b> {1}<br><small>{2}</small></td><td>not run</td>"
            "<td>{3} claims</td><td><code>{4}</code></td><td>{5}</td></tr>",
            esc(p.name), esc(p.os), esc(p.summary), p.claims, esc(p.file), fmt::join(targets, ", "));
    }
    return out + "</tbody></table></section>";
}

}  // namespace

std::string matrix_html(const MatrixReport& r, const WriteOptions&) {
    const std::string host = fmt::format("{} {} ({})", text(field(r.host, "os")), text(field(r.host, "kernel")),
                                         text(field(r.host, "hostname")));
    std::string out = fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>ilk matrix: "
        "{}</title><style>{}</style></head>\n<body>",
        esc(host), kStyle);
    out += "<header id=\"summary\"><h1>Interlock Kit: strategy &times; target matrix</h1>";
    if (r.interrupted) out += "<p class=\"interrupted\">interrupted: partial report</p>";
    out += fmt::format(
        "<dl class=\"info\"><dt>host</dt><dd id=\"host\">{}</dd><dt>profile</dt><dd>{}</dd><dt>schedule</dt><dd>{}</dd>"
        "<dt>elapsed</dt><dd>{}</dd>",
        esc(host), r.profile.empty() ? "none" : esc(r.profile), esc(r.schedule), duration(r.elapsed_ms));
    if (!r.merged_from.empty()) {
        out += "<dt>merged from</dt><dd><ul id=\"merged-from\">";
        for (const std::string& m : r.merged_from) out += fmt::format("<li>{}</li>", esc(m));
        out += "</ul></dd>";
    }
    out += "</dl></header>\n";

    std::map<const TargetResult*, size_t> anchor;
    for (size_t i = 0; i < r.targets.size(); ++i) anchor.emplace(&r.targets[i], i);
    out +=
        "<section id=\"matrix\"><h2>Matrix</h2><p class=\"muted\">Strategies down, targets across; open a cell for its scenarios "
        "and evidence.</p>" +
        matrix_html_table(r, columns(r), anchor) + "</section>\n";
    out += verdict_summary_html(r) + grids_html(r);
    if (const auto never = never_told_findings(r); !never.empty()) {
        out += "<section id=\"never-told\"><h2>Never told</h2><p>Two servers held the data directory at once on a network mount, and "
               "the first one's I/O and its client's kernel log said nothing of it.</p><ul>";
        for (const NeverTold& n : never) {
            std::string targets;
            for (const std::string& t : n.targets) targets += (targets.empty() ? "" : ", ") + esc(t);
            out += fmt::format("<li class=\"never-told\"><b>{}</b> under {}{} on {}: both ran {}. <span class=\"holder\">{}</span></li>",
                               esc(n.strategy), esc(n.scenario), n.variant.empty() ? "" : " (" + esc(n.variant) + ")", targets,
                               esc(exposure_text(n.exposure_ms)), esc(n.holder_saw));
        }
        out += "</ul></section>\n";
    }
    if (const auto differ = disagreements(r); !differ.empty()) {
        out += "<section id=\"real-servers\"><h2>Real servers and their models</h2><p>Where a real server and the kit's model of it "
               "disagree; each with both transcripts.</p><ul>";
        for (const Disagreement& d : differ) {
            out += fmt::format("<li class=\"disagreement\"><b>{}</b> {} but <b>{}</b> {} under {} on {}. {}", esc(d.server),
                               esc(to_string(d.server_result->verdict)), esc(d.model), esc(to_string(d.model_result->verdict)), esc(d.scenario),
                               esc(d.target),
                               d.note.empty() ? std::string("<i>Not explained yet</i>: the model is wrong, or the server has behaviour the model "
                                                            "lacks; say which in its server file (differences).")
                                              : "Why: " + esc(d.note));
            for (const auto& [who, res] : {std::pair{d.server, d.server_result}, std::pair{d.model, d.model_result}}) {
                out += fmt::format("<details><summary>{}: {}</summary>", esc(who), esc(result_words(*res)));
                if (!res->transcript.is_null() && !res->transcript.empty())
                    out += "<pre>" + esc(res->transcript.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) + "</pre>";
                out += "</details>";
            }
            out += "</li>";
        }
        out += "</ul></section>\n";
    }
    out += not_run_html(r);
    out += "<section id=\"targets\"><h2>Targets</h2>";
    for (size_t i = 0; i < r.targets.size(); ++i) out += target_html(r.targets[i], i);
    out += "</section>\n" + legend_html(r);
    out += fmt::format("<footer class=\"muted\"><p>written by ilk {}</p></footer>\n</body></html>\n",
                       esc(text(field(r.host, "ilk_version"))));
    return out;
}

}  // namespace ilk
