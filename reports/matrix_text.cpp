// The terminal matrix: strategies down, targets across, each cell the worst
// verdict with the number of the scenario that decided it; fits `width`
// columns (more targets wrap into further blocks). Below it the findings and
// each target's deviations from the platform profile.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "deviations.h"
#include "writers.h"

namespace ilk {

namespace {

constexpr int kStrategyWidth = 22;
constexpr int kCellWidth = 9;  // 8 targets fit in 100 columns

const char* glyph(Verdict v) {
    switch (v) {
    case Verdict::SAFE: return "ok";
    case Verdict::UNSAFE: return "UNS";
    case Verdict::STUCK: return "STK";
    case Verdict::ERROR: return "ERR";
    case Verdict::UNSUPPORTED: return "--";
    }
    return "?";
}

const char* color_code(Verdict v) {
    switch (v) {
    case Verdict::SAFE: return "32";
    case Verdict::UNSAFE: return "31;1";
    case Verdict::STUCK: return "33;1";
    case Verdict::ERROR: return "35;1";
    case Verdict::UNSUPPORTED: return "2";
    }
    return "0";
}

std::string paint(bool color, Verdict v, const std::string& text) {
    return color ? fmt::format("\033[{}m{}\033[0m", color_code(v), text) : text;
}

std::string column_label(const Column& c, bool several_platforms) {
    std::string label = c.target;
    if (several_platforms) label = c.platform.substr(c.platform.find(' ') + 1, 5) + ":" + label;
    if (label.size() > kCellWidth - 1) label = label.substr(0, kCellWidth - 2) + "~";
    return label;
}

// Word-wrap text to width, every line indented; a word longer than a line stands alone.
std::string wrap(const std::string& text, int width, int indent) {
    std::string out, line(indent, ' ');
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        const std::string word = text.substr(start, end - start);
        if (line.size() > static_cast<size_t>(indent) && line.size() + 1 + word.size() > static_cast<size_t>(width)) {
            out += line + "\n";
            line.assign(indent, ' ');
        }
        line += (line.size() > static_cast<size_t>(indent) ? " " : "") + word;
        start = end + 1;
    }
    return out + line + "\n";
}

// A target as the findings name it; "(from <report>)" only when a merge holds
// more than one result for its platform and name.
std::string target_label(const MatrixReport& r, const TargetResult& t, bool several_platforms) {
    const std::string label = several_platforms ? t.platform + ":" + t.name : t.name;
    const auto same = [&t](const TargetResult& o) { return o.platform == t.platform && o.name == t.name; };
    const bool duplicated = std::count_if(r.targets.begin(), r.targets.end(), same) > 1;
    return duplicated && !t.source.empty() ? label + " (from " + t.source + ")" : label;
}

// Per profile, each target's probe facts that break the profile's claims; the
// targets without any share one line.
std::string deviations_text(const MatrixReport& r, const WriteOptions& o, bool several_platforms) {
    const std::vector<TargetDeviations> all = profile_deviations(r);
    std::string out;
    for (const std::string& profile : deviation_profiles(all)) {
        out += fmt::format("\ndeviations from the {} profile:\n", profile.empty() ? "(unnamed)" : profile);
        std::vector<std::string> clean;
        int known = 0;
        for (const TargetDeviations& td : all) {
            if (td.profile != profile) continue;
            known += td.known;
            const std::string label = target_label(r, *td.target, several_platforms);
            if (td.deviations.empty()) {
                clean.push_back(label);
                continue;
            }
            out += "  " + label + "\n";
            for (const ProfileDeviation& d : td.deviations) {
                const std::string what =
                    d.stale ? fmt::format("{}: observed {} as documented, yet the profile lists a known deviation ({}): the "
                                          "profile is stale",
                                          d.fact, d.observed, d.known)
                            : fmt::format("{}: expected {}, observed {}", d.fact, d.expected, d.observed);
                const std::string line = wrap(what, o.width, 4);
                out += paint(o.color, Verdict::UNSAFE, line.substr(0, line.size() - 1)) + "\n";
                out += wrap(fmt::format("source: {} ({})", d.source, d.where), o.width, 6);
            }
        }
        if (!clean.empty()) out += wrap(fmt::format("none on {}", fmt::join(clean, ", ")), o.width, 2);
        if (known) out += fmt::format("  {} known deviation(s) not listed: the profile expects them\n", known);
    }
    return out;
}

}  // namespace

std::string matrix_text(const MatrixReport& r, const WriteOptions& o) {
    const std::vector<Column> cols = columns(r);
    const std::vector<std::string> strategies = strategy_names(r);
    std::map<std::string, int> scenario_no;
    for (const ScenarioInfo& s : r.scenarios) scenario_no.emplace(s.name, static_cast<int>(scenario_no.size()) + 1);
    for (const TargetResult& t : r.targets)
        for (const StrategyCell& c : t.cells)
            for (const ScenarioResult& s : c.scenarios) scenario_no.emplace(s.scenario, static_cast<int>(scenario_no.size()) + 1);
    bool several_platforms = false;
    for (const Column& c : cols) several_platforms |= c.platform != cols.front().platform;

    std::string out = fmt::format("ilk run — {} {} ({}), profile {}\nschedule: {}\n", r.host.value("os", "?"), r.host.value("kernel", "?"),
                                  r.host.value("hostname", "?"), r.profile.empty() ? "none" : r.profile, r.schedule);
    if (!r.merged_from.empty()) out += fmt::format("merged from {} report(s): {}\n", r.merged_from.size(), fmt::join(r.merged_from, ", "));

    const int per_block = std::max(1, (o.width - kStrategyWidth) / kCellWidth);
    for (size_t first = 0; first < cols.size(); first += per_block) {
        const size_t last = std::min(cols.size(), first + per_block);
        out += fmt::format("\n{:<{}}", "strategy \\ target", kStrategyWidth);
        for (size_t i = first; i < last; ++i) out += fmt::format("{:<{}}", column_label(cols[i], several_platforms), kCellWidth);
        out += "\n";
        for (const std::string& s : strategies) {
            out += fmt::format("{:<{}}", s.substr(0, kStrategyWidth - 1), kStrategyWidth);
            for (size_t i = first; i < last; ++i) {
                std::string text;
                Verdict shown = Verdict::UNSUPPORTED;
                const auto cells = cells_of(cols[i], s);
                if (conflicting(cols[i], s)) {
                    text = "CONFLICT";  // 8 characters: fits the cell
                    shown = Verdict::ERROR;
                } else if (const StrategyCell* c = cells.front()) {
                    shown = c->verdict;
                    // "UNS 1/14": how many of its scenarios fail, of those judged
                    // (the scenarios themselves are listed per strategy below).
                    text = count_label(std::string(glyph(c->verdict)) + (safe_is_partial(*c) ? "*" : ""), *c);
                    if (text.size() > kCellWidth - 1) text.erase(text.find(' '), 1);  // "ERR10/14"
                } else {
                    text = cols[i].results.front()->unsupported.empty() ? "" : "--";
                }
                out += paint(o.color, shown, text) + std::string(kCellWidth - std::min<size_t>(text.size(), kCellWidth - 1), ' ');
            }
            out += "\n";
        }
    }

    if (!r.not_run.empty()) {
        std::vector<std::string> names;
        for (const NotRunPlatform& p : r.not_run) names.push_back(p.name);
        out += fmt::format("{:<{}}not run: {} (claims only, below)\n", "other platforms", kStrategyWidth, fmt::join(names, ", "));
    }
    out += "\nverdicts: ok=SAFE  UNS=UNSAFE (exclusion or collateral broken)  STK=STUCK (refused when it\n"
           "          should start)  ERR=ERROR (the kit failed)  --=UNSUPPORTED  CONFLICT (merged results\n"
           "          disagree); the worst verdict, then failing/judged scenarios (UNS 1/14: one of 14 fails)\n";
    out += "scenarios:";
    std::vector<std::pair<int, std::string>> numbered;
    for (const auto& [name, n] : scenario_no) numbered.emplace_back(n, name);
    std::sort(numbered.begin(), numbered.end());
    for (size_t i = 0; i < numbered.size(); ++i)
        out += fmt::format("{}{:>2}={}", i % 4 == 0 ? "\n  " : "  ", numbered[i].first, numbered[i].second);
    out += "\n\ntargets:\n";
    for (const TargetResult& t : r.targets) {
        const std::string where = several_platforms ? t.platform + " " : "";
        if (!t.unsupported.empty()) {
            out += fmt::format("  {}{:<12} {}\n", where, t.name, paint(o.color, Verdict::UNSUPPORTED, "not set up: " + t.unsupported));
            continue;
        }
        out += fmt::format("  {}{:<12} {:>6.1f} s  {}{}, {}\n", where, t.name, t.elapsed_ms / 1000, t.info.value("fstype", "?"),
                           t.segments_only ? " (segments only)" : "", t.info.value("mount_options", "?"));
        out += fmt::format("  {:<{}}at {}\n", "", where.size() + 13, t.info.value("path", "?"));
    }

    // Findings: one line per strategy x scenario x verdict, with the targets it was seen on.
    struct Finding {
        const ScenarioResult* first;
        std::vector<std::string> targets;
    };
    std::vector<std::pair<std::string, Finding>> findings;
    for (const TargetResult& t : r.targets)
        for (const StrategyCell& c : t.cells)
            for (const ScenarioResult& s : c.scenarios) {
                if (!is_failure(s.verdict)) continue;
                const std::string key = fmt::format("{} {} under {}", to_string(s.verdict), c.strategy, s.scenario);
                auto it = std::find_if(findings.begin(), findings.end(), [&](const auto& f) { return f.first == key; });
                if (it == findings.end()) it = findings.insert(findings.end(), {key, Finding{&s, {}}});
                it->second.targets.push_back(several_platforms ? t.platform + ":" + t.name : t.name);
            }
    if (!findings.empty()) out += "\nfindings:\n";
    for (const auto& [key, f] : findings) {
        out += fmt::format("  {} on {}\n", paint(o.color, f.first->verdict, key), fmt::join(f.targets, ", "));
        out += wrap(f.first->reason, o.width, 6);
        if (const std::string per = variants_text(*f.first); !per.empty()) out += wrap("per variant: " + per, o.width, 6);
        auto in_dir = [&](const std::string& file) {
            return o.report_dir.empty() || file.front() == '/' ? file : o.report_dir + "/" + file;
        };
        if (!f.first->counterexample.empty())
            out += fmt::format("      schedule [{}]; replay:\n        ilk replay {}\n", fmt::join(f.first->schedule, " "),
                               in_dir(f.first->counterexample));
        // The other kinds of violation the same search found, each with its own counterexample.
        for (const FoundViolation* found : other_findings(*f.first)) {
            const FoundViolation& v = *found;
            out += fmt::format("      also {} ({}{}):\n", to_string(v.verdict), v.kind, v.variant.empty() ? "" : ", variant " + v.variant);
            out += wrap(v.explanation, o.width, 8);
            if (!v.counterexample.empty())
                out += fmt::format("        schedule [{}]; replay:\n          ilk replay {}\n", fmt::join(v.schedule, " "),
                                   in_dir(v.counterexample));
        }
    }
    if (const auto never = never_told_findings(r); !never.empty()) {
        out += "\nnever told (two servers at once; the first one's I/O and its kernel log said nothing):\n";
        for (const NeverTold& n : never) {
            out += fmt::format("  {} under {}{} on {}\n", n.strategy, n.scenario, n.variant.empty() ? "" : " (" + n.variant + ")",
                               fmt::join(n.targets, ", "));
            out += wrap(fmt::format("both ran {}. {}", exposure_text(n.exposure_ms), n.holder_saw), o.width, 6);
        }
    }
    if (const auto differ = disagreements(r); !differ.empty()) {
        out += "\nreal servers and their models (where they disagree):\n";
        for (const Disagreement& d : differ) {
            out += fmt::format("  {} {} but {} {} under {} on {}\n", d.server, to_string(d.server_result->verdict), d.model,
                               to_string(d.model_result->verdict), d.scenario, d.target);
            out += wrap(fmt::format("{}: {}", d.server, result_words(*d.server_result)), o.width, 6);
            out += wrap(fmt::format("{}: {}", d.model, result_words(*d.model_result)), o.width, 6);
            out += wrap(d.note.empty() ? fmt::format("not explained yet: find out whether the model is wrong or the server has behaviour the "
                                                     "model lacks, and say which in its server file (differences)")
                                       : "why: " + d.note,
                        o.width, 6);
        }
    }
    out += deviations_text(r, o, several_platforms);
    if (!r.not_run.empty()) {
        out += "\nnot run here (claims only, no results):\n";
        for (const NotRunPlatform& p : r.not_run)
            out += fmt::format("  {:<10} {} claims in {}; its targets: {}\n", p.name, p.claims, p.file, fmt::join(p.targets, ", "));
    }
    if (const auto per = strategy_failures(r); !per.empty()) {
        out += "\nper strategy (the scenarios it fails on every target it ran on; on some only):\n";
        for (const StrategyFailures& f : per) {
            std::string line = !f.everywhere.empty() ? fmt::format("{}", fmt::join(f.everywhere, ", "))
                               : f.somewhere.empty()   ? "nothing"
                                                       : "nothing everywhere";
            if (!f.somewhere.empty()) line += fmt::format("; on some: {}", fmt::join(f.somewhere, ", "));
            std::string block = wrap(line, o.width, kStrategyWidth + 2);  // the name goes into the first line's indent
            block.replace(0, kStrategyWidth + 2, fmt::format("  {:<{}}", f.strategy.substr(0, kStrategyWidth - 1), kStrategyWidth));
            out += block;
        }
    }
    if (const auto sums = target_summaries(r); !sums.empty()) {
        out += "\nsummary:\n";
        for (const TargetSummary& t : sums) out += wrap(summary_line(t), o.width, 4);
    }
    int cells = 0, safe = 0, incomplete = 0;
    for (const TargetResult& t : r.targets)
        for (const StrategyCell& c : t.cells) {
            ++cells;
            safe += c.verdict == Verdict::SAFE;
            for (const ScenarioResult& s : c.scenarios) incomplete += s.verdict == Verdict::SAFE && !s.complete;
        }
    if (incomplete)
        out += fmt::format("\nok*: SAFE as far as the search went. {} SAFE scenario results are partial: the search hit its cap or budget, "
                           "or sampled (each one's coverage is in report.json; raise --max-schedules or --budget).\n",
                           incomplete);
    out += fmt::format("\n{} cells over {} target(s), {} SAFE, in {:.1f} s{}\n", cells, r.targets.size(), safe, r.elapsed_ms / 1000,
                       r.interrupted ? " (interrupted: partial report)" : "");
    return out;
}

}  // namespace ilk
