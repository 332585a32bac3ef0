// The Markdown report: the matrix, the findings, the deviations from the
// platform profile and the legend as GitHub-flavoured Markdown, to paste into
// a wiki. Every string from the data goes through md(), code_span() or
// fenced(), so a name or an explanation can neither break a table row nor
// smuggle HTML into the page.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "deviations.h"
#include "writers.h"

namespace ilk {

namespace {

// Inline text on one line: the characters GFM gives a meaning to anywhere in
// a line are backslash-escaped, < > & become entities (no tag or entity from
// the data is ever interpreted). Line-start syntax (#, -, 1.) cannot trigger
// because data never starts a line here.
std::string md(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '\\': case '`': case '*': case '_': case '[': case ']':
        case '|': case '~': case '$': case '#':
            out += '\\';
            out += ch;
            break;
        case '\n': case '\r': case '\t': out += ' '; break;
        default:
            if (c >= 0x20 && c != 0x7f) out += ch;
        }
    }
    return out;
}

size_t longest_run(std::string_view text, char c) {
    size_t best = 0, run = 0;
    for (const char ch : text) best = std::max(best, run = ch == c ? run + 1 : 0);
    return best;
}

// Code span content is literal (no escapes, no HTML), so only the delimiter
// has to outgrow the backticks inside. Never used inside a table, where `|`
// would still split the cell.
std::string code_span(std::string_view text) {
    std::string t;
    for (const char ch : text) t += static_cast<unsigned char>(ch) < 0x20 ? ' ' : ch;
    if (t.empty()) return "(none)";
    const std::string ticks(longest_run(t, '`') + 1, '`');
    const bool pad = t.front() == '`' || t.back() == '`' || (t.front() == ' ' && t.back() == ' ');
    return ticks + (pad ? " " : "") + t + (pad ? " " : "") + ticks;
}

std::string shell_quoted(const std::string& path) {
    const bool plain = !path.empty() && std::all_of(path.begin(), path.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_./+-:=@%,").find(c) != std::string_view::npos;
    });
    if (plain) return path;
    std::string out = "'";
    for (const char c : path) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// GFM needs a blank line before a table; cells are always joined with
// " | " so that a trailing backslash in a cell cannot escape the separator.
std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::string out = "\n| " + fmt::format("{}", fmt::join(header, " | ")) + " |\n|";
    for (size_t i = 0; i < header.size(); ++i) out += "---|";
    out += "\n";
    for (const auto& row : rows) out += "| " + fmt::format("{}", fmt::join(row, " | ")) + " |\n";
    return out;
}

std::string verdict_md(Verdict v) {
    const std::string name(to_string(v));
    return is_failure(v) ? "**" + name + "**" : name;
}

std::string cell_md(const StrategyCell& c) {
    std::string out = verdict_md(c.verdict);
    if (safe_is_partial(c)) out += "\\*";  // SAFE as far as the search went (footnote)
    if (const FailureCount n = failure_count(c); n.judged > 0) out += fmt::format(" {}/{}", n.failed, n.judged);
    if (!c.deciding_scenario.empty()) out += " (" + md(c.deciding_scenario) + ")";
    return out;
}

std::string result_label(const TargetResult& t, size_t i) {
    if (!t.source.empty()) return t.source;
    if (!t.host.empty()) return t.host;
    return fmt::format("result {}", i + 1);
}

std::string matrix_cell(const Column& col, const std::string& strategy) {
    const std::vector<const StrategyCell*> cells = cells_of(col, strategy);
    if (conflicting(col, strategy)) {
        std::vector<std::string> parts;
        for (size_t i = 0; i < cells.size(); ++i)
            parts.push_back(fmt::format("{} from {}", cells[i] ? cell_md(*cells[i]) : "not run", md(result_label(*col.results[i], i))));
        return fmt::format("**CONFLICT**: {}", fmt::join(parts, "; "));
    }
    for (const StrategyCell* c : cells)
        if (c) return cell_md(*c);
    for (const TargetResult* t : col.results)
        if (!t->unsupported.empty()) return "not set up";
    return "—";
}

struct Finding {
    std::string strategy, scenario;
    Verdict verdict;
    std::vector<std::pair<const TargetResult*, const ScenarioResult*>> seen;
};

// UNSAFE/STUCK/ERROR scenario results grouped by strategy x scenario x
// verdict, worst first, otherwise in the order the report lists them.
std::vector<Finding> findings(const MatrixReport& r) {
    std::vector<Finding> out;
    std::map<std::tuple<std::string, std::string, Verdict>, size_t> index;
    for (const TargetResult& t : r.targets)
        for (const StrategyCell& c : t.cells)
            for (const ScenarioResult& s : c.scenarios) {
                if (!is_failure(s.verdict)) continue;
                const auto [it, added] = index.emplace(std::make_tuple(c.strategy, s.scenario, s.verdict), out.size());
                if (added) out.push_back({c.strategy, s.scenario, s.verdict, {}});
                out[it->second].seen.emplace_back(&t, &s);
            }
    std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return severity(a.verdict) > severity(b.verdict); });
    return out;
}

struct Labels {
    bool several_platforms = false;
    std::set<const TargetResult*> duplicated;  // shares its column with another result

    std::string of(const TargetResult& t) const {
        std::string label = several_platforms ? t.platform + " / " + t.name : t.name;
        if (duplicated.count(&t)) label += " from " + result_label(t, 0);
        return md(label);
    }
};

std::string finding_md(const Finding& f, const Labels& labels) {
    std::vector<std::string> where;
    for (const auto& [t, s] : f.seen) where.push_back(labels.of(*t));
    std::string out = fmt::format("\n### {}: {} under {}\n\nSeen on {}.\n", to_string(f.verdict), md(f.strategy), md(f.scenario),
                                  fmt::join(where, ", "));
    // Targets that failed the same way share one explanation.
    std::vector<std::pair<const ScenarioResult*, std::vector<std::string>>> groups;
    for (const auto& [t, s] : f.seen) {
        const auto same = [s = s](const auto& g) {
            return g.first->reason == s->reason && g.first->schedule == s->schedule && g.first->counterexample == s->counterexample &&
                   g.first->variant == s->variant;
        };
        auto it = std::find_if(groups.begin(), groups.end(), same);
        if (it == groups.end()) it = groups.insert(groups.end(), {s, {}});
        it->second.push_back(labels.of(*t));
    }
    for (const auto& [s, on] : groups) {
        out += fmt::format("\n**On {}**: {}\n\n", fmt::join(on, ", "), s->reason.empty() ? "no explanation recorded" : md(s->reason));
        if (!s->schedule.empty())
            out += fmt::format("- schedule: {}{} (`B` = B takes a step, `!B` = B is SIGKILLed)\n",
                               code_span(fmt::format("{}", fmt::join(s->schedule, " "))),
                               s->variant.empty() ? "" : ", variant " + md(s->variant));
        out += fmt::format("- searched: {} schedule(s), {} crash fault(s)\n", s->schedules, s->faults);
        if (const std::string per = variants_text(*s); !per.empty()) out += fmt::format("- per variant: {}\n", md(per));
        if (!s->counterexample.empty())
            out += fmt::format("- counterexample: {}; replay with {}\n", code_span(s->counterexample),
                               code_span("ilk replay " + shell_quoted(s->counterexample)));
        for (const FoundViolation* found : other_findings(*s)) {
            const FoundViolation& v = *found;
            out += fmt::format("- also found: {} ({}){}, schedule {}: {}{}\n", to_string(v.verdict), md(v.kind),
                               v.variant.empty() ? "" : ", variant " + md(v.variant),
                               code_span(fmt::format("{}", fmt::join(v.schedule, " "))), md(v.explanation),
                               v.counterexample.empty() ? "" : "; counterexample " + code_span(v.counterexample));
        }
    }
    return out;
}

// Per profile, one table of the probe facts that break its claims, a row per
// target and fact; the targets without any are named below it.
std::string deviations_md(const MatrixReport& r, const Labels& labels) {
    const std::vector<TargetDeviations> all = profile_deviations(r);
    std::string out;
    for (const std::string& profile : deviation_profiles(all)) {
        out += fmt::format("\n## Deviations from the {} profile\n\nProbe facts that break a claim of the profile; "
                           "`report.json` and `report.html` carry the evidence.\n",
                           profile.empty() ? "(unnamed)" : md(profile));
        std::vector<std::vector<std::string>> rows;
        std::vector<std::string> clean;
        int known = 0;
        for (const TargetDeviations& td : all) {
            if (td.profile != profile) continue;
            known += td.known;
            if (td.deviations.empty()) clean.push_back(labels.of(*td.target));
            for (const ProfileDeviation& d : td.deviations) {
                const std::string observed =
                    d.stale ? fmt::format("{}, as documented: the known deviation ({}) did not happen, so the profile is stale",
                                          md(d.observed), md(d.known))
                            : md(d.observed);
                rows.push_back({labels.of(*td.target), md(d.fact), md(d.expected), observed,
                                fmt::format("{} ({})", md(d.source), md(d.where))});
            }
        }
        if (!rows.empty()) out += table({"target", "fact", "expected", "observed", "source"}, rows);
        if (!clean.empty()) out += fmt::format("\nNo deviation on {}.\n", fmt::join(clean, ", "));
        if (known) out += fmt::format("\n{} known deviation(s) not listed: the profile expects them.\n", known);
    }
    return out;
}

std::string seconds(double ms) { return fmt::format("{:.1f} s", ms / 1000); }

std::string info(const TargetResult& t, const char* key) {
    const auto it = t.info.find(key);
    return it != t.info.end() && it->is_string() && !it->get<std::string>().empty() ? md(it->get<std::string>()) : "—";
}

std::string targets_md(const MatrixReport& r, const Labels& labels) {
    const bool sources = std::any_of(r.targets.begin(), r.targets.end(), [](const TargetResult& t) { return !t.source.empty(); });
    std::vector<std::string> header{"target"};
    if (labels.several_platforms) header.push_back("platform");
    if (sources) header.push_back("from");
    for (const char* h : {"host", "fstype", "mount options", "path", "time", "notes"}) header.push_back(h);
    std::vector<std::vector<std::string>> rows;
    for (const TargetResult& t : r.targets) {
        std::vector<std::string> row{md(t.name)};
        if (labels.several_platforms) row.push_back(md(t.platform));
        if (sources) row.push_back(t.source.empty() ? "—" : md(t.source));
        std::vector<std::string> notes;
        if (!t.unsupported.empty()) notes.push_back("**not set up**: " + md(t.unsupported));
        if (t.segments_only) notes.push_back("segments only, not a data directory");
        if (t.kind == "directory") notes.push_back("directory named by the user");
        const std::string note = notes.empty() ? "—" : fmt::format("{}", fmt::join(notes, "; "));
        for (std::string cell : {t.host.empty() ? std::string("—") : md(t.host), info(t, "fstype"), info(t, "mount_options"),
                                 info(t, "path"), seconds(t.elapsed_ms), note})
            row.push_back(std::move(cell));
        rows.push_back(std::move(row));
    }
    return "\n## Targets\n" + table(header, rows);
}

std::string legend_md(const MatrixReport& r) {
    std::string out =
        "\n## Legend\n\n**Verdicts**\n\n"
        "- **SAFE**: no violation in any schedule and crash fault run\n"
        "- **UNSAFE**: exclusion or collateral broken (two live holders, or something of someone else's signalled or removed)\n"
        "- **STUCK**: refused to start when nothing of an earlier server was alive\n"
        "- **UNSUPPORTED**: could not run here for a reason that matters (not root, a primitive missing)\n"
        "- **ERROR**: the kit failed, not the strategy\n"
        "- **CONFLICT**: merged results for the same platform and target disagree\n"
        "- `1/14`: failing scenarios of those judged (all but UNSUPPORTED); the scenario in parentheses decided the cell\n\n**Strategies**\n\n";
    for (const std::string& name : strategy_names(r)) {
        const auto it = std::find_if(r.strategies.begin(), r.strategies.end(), [&](const StrategyInfo& s) { return s.name == name; });
        out += "- **" + md(name) + "**";
        if (it != r.strategies.end() && !it->summary.empty()) out += ": " + md(it->summary);
        if (it != r.strategies.end() && !it->source.empty()) out += " (source: " + md(it->source) + ")";
        out += "\n";
    }
    out += "\n**Scenarios**\n\n";
    std::set<std::string> listed;
    for (const ScenarioInfo& s : r.scenarios)
        if (listed.insert(s.name).second) out += "- **" + md(s.name) + "**" + (s.summary.empty() ? "" : ": " + md(s.summary)) + "\n";
    for (const TargetResult& t : r.targets)
        for (const StrategyCell& c : t.cells)
            for (const ScenarioResult& s : c.scenarios)
                if (listed.insert(s.scenario).second) out += "- **" + md(s.scenario) + "**\n";
    return out;
}

}  // namespace

std::string matrix_markdown(const MatrixReport& r, const WriteOptions&) {
    const std::vector<Column> cols = columns(r);
    Labels labels;
    for (const Column& c : cols) {
        labels.several_platforms |= c.platform != cols.front().platform;
        if (c.results.size() > 1) labels.duplicated.insert(c.results.begin(), c.results.end());
    }

    const std::string host = fmt::format("{} {} on {}", md(r.host.value("os", "?")), md(r.host.value("kernel", "?")),
                                         md(r.host.value("hostname", "?")));
    std::string out = r.merged_from.empty() ? fmt::format("# ilk run: {}\n\n", host)
                                            : fmt::format("# ilk merge of {} reports ({})\n\n", r.merged_from.size(), host);
    out += fmt::format("- profile: {}\n- schedule: {}\n", r.profile.empty() ? "none" : md(r.profile), md(r.schedule));
    if (!r.merged_from.empty()) {
        std::vector<std::string> files;
        for (const std::string& f : r.merged_from) files.push_back(code_span(f));
        out += fmt::format("- merged from {} report(s): {}\n", files.size(), fmt::join(files, ", "));
    }
    out += fmt::format("- time: {}{}\n", seconds(r.elapsed_ms), r.interrupted ? " (**interrupted**: partial report)" : "");

    std::vector<std::string> header{"strategy"};
    for (const Column& c : cols) header.push_back(md(labels.several_platforms ? c.platform + " / " + c.target : c.target));
    std::vector<std::vector<std::string>> rows;
    for (const std::string& s : strategy_names(r)) {
        std::vector<std::string> row{"**" + md(s) + "**"};
        for (const Column& c : cols) row.push_back(matrix_cell(c, s));
        rows.push_back(std::move(row));
    }
    out += "\n## Matrix\n" + table(header, rows);

    int incomplete = 0;
    for (const TargetResult& t : r.targets)
        for (const StrategyCell& c : t.cells)
            for (const ScenarioResult& s : c.scenarios) incomplete += s.verdict == Verdict::SAFE && !s.complete;
    if (incomplete)
        out += fmt::format("\nSAFE\\*: SAFE as far as the search went. {} SAFE scenario result(s) are partial: the search hit its cap or budget, or sampled (each one's coverage "
                           "is in report.json; raise `--max-schedules` or `--budget`).\n",
                           incomplete);

    if (const auto sums = target_summaries(r); !sums.empty()) {
        out += "\n## Summary\n\n";
        for (const TargetSummary& t : sums) out += "- " + md(summary_line(t)) + "\n";
    }
    if (const auto per = strategy_failures(r); !per.empty()) {
        std::vector<std::vector<std::string>> frows;
        for (const StrategyFailures& f : per) {
            std::vector<std::string> every, some;
            for (const std::string& sc : f.everywhere) every.push_back(md(sc));
            for (const std::string& sc : f.somewhere) some.push_back(md(sc));
            frows.push_back({"**" + md(f.strategy) + "**", every.empty() ? "none" : fmt::format("{}", fmt::join(every, ", ")),
                             some.empty() ? "" : fmt::format("{}", fmt::join(some, ", ")), std::to_string(f.targets.size())});
        }
        out += "\n## Per strategy\n" + table({"strategy", "fails on every target", "fails on some", "targets run"}, frows);
    }

    const std::vector<Finding> found = findings(r);
    out += "\n## Findings\n";
    if (found.empty()) out += "\nNo UNSAFE, STUCK or ERROR result.\n";
    for (const Finding& f : found) out += finding_md(f, labels);

    if (const auto never = never_told_findings(r); !never.empty()) {
        out += "\n## Never told\n\nTwo servers held the data directory at once on a network mount, and the first one's I/O and its "
               "client's kernel log said nothing of it.\n\n";
        for (const NeverTold& n : never) {
            std::vector<std::string> targets;
            for (const std::string& t : n.targets) targets.push_back(md(t));
            out += fmt::format("- **{}** under {}{} on {}: both ran {}. {}\n", md(n.strategy), md(n.scenario),
                               n.variant.empty() ? "" : " (" + md(n.variant) + ")", fmt::join(targets, ", "), md(exposure_text(n.exposure_ms)),
                               md(n.holder_saw));
        }
    }
    if (const auto differ = disagreements(r); !differ.empty()) {
        out += "\n## Real servers and their models\n\nWhere a real server and the kit's model of it disagree; each with both "
               "transcripts.\n\n";
        for (const Disagreement& d : differ) {
            out += fmt::format("- **{}** {} but **{}** {} under {} on {}. {}\n", md(d.server), to_string(d.server_result->verdict), md(d.model),
                               to_string(d.model_result->verdict), md(d.scenario), md(d.target),
                               d.note.empty() ? "Not explained yet: the model is wrong, or the server has behaviour the model lacks; say "
                                                "which in its server file (`differences`)."
                                              : "Why: " + md(d.note));
            for (const auto& [who, res] : {std::pair{d.server, d.server_result}, std::pair{d.model, d.model_result}}) {
                out += fmt::format("  - {}: {}\n", md(who), md(result_words(*res)));
                if (!res->transcript.is_null() && !res->transcript.empty())
                    out += fmt::format("\n    ```json\n    {}\n    ```\n\n", res->transcript.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            }
        }
    }
    out += deviations_md(r, labels);

    out += targets_md(r, labels);
    out += legend_md(r);
    if (!r.not_run.empty()) {
        out += "\n## Not run here (claims only, no results)\n\n";
        for (const NotRunPlatform& p : r.not_run) {
            std::vector<std::string> targets;
            for (const std::string& t : p.targets) targets.push_back(md(t));
            out += fmt::format("- **{}** ({}): {} claim(s) in {}; its targets: {}{}\n", md(p.name), md(p.os), p.claims, code_span(p.file),
                               targets.empty() ? "none" : fmt::format("{}", fmt::join(targets, ", ")),
                               p.summary.empty() ? "" : ". " + md(p.summary));
        }
    }
    return out;
}

}  // namespace ilk
