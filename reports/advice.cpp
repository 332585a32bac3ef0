#include "advice.h"

#include "probe_report.h"  // expected_text

#include <algorithm>

#include <fmt/format.h>

namespace ilk {

namespace {

struct Score {
    int rank = 0;        // 0 SAFE, 1 UNSUPPORTED, 2 failing
    int failing = 0;     // scenarios UNSAFE/STUCK/ERROR
    int worst = 0;       // severity of the worst failing scenario
    int safe = 0;        // scenarios shown SAFE
    int schedules = 0;
};

Score score(const StrategyCell& c) {
    Score s;
    s.rank = is_failure(c.verdict) ? 2 : c.verdict == Verdict::UNSUPPORTED ? 1 : 0;
    for (const ScenarioResult& r : c.scenarios) {
        const bool fails = is_failure(r.verdict);
        s.failing += fails;
        if (fails) s.worst = std::max(s.worst, severity(r.verdict));
        s.safe += r.verdict == Verdict::SAFE;
        s.schedules += r.schedules;
    }
    return s;
}

// One line about a cell; with_paths adds each failure's counterexample file.
std::string cell_line(const StrategyCell& c, bool with_paths) {
    int safe = 0, schedules = 0;
    for (const ScenarioResult& r : c.scenarios) {
        safe += r.verdict == Verdict::SAFE;
        schedules += r.schedules;
    }
    std::string line = fmt::format("{}: SAFE under {} of {} scenarios ({} schedules)", to_string(c.verdict), safe, c.scenarios.size(), schedules);
    for (const ScenarioResult& r : c.scenarios)
        if (is_failure(r.verdict))
            line += fmt::format("; {} under {}{}", to_string(r.verdict), r.scenario,
                                with_paths && !r.counterexample.empty() ? " (" + r.counterexample + ")" : "");
    if (c.verdict == Verdict::UNSUPPORTED) line += "; " + c.reason;
    return line;
}

// "prefix a, b, c" folded at 100 columns, continuation lines indented.
std::string wrap_list(const std::string& prefix, const std::vector<std::string>& items) {
    std::string out, line = prefix;
    for (size_t i = 0; i < items.size(); ++i) {
        const std::string item = items[i] + (i + 1 < items.size() ? "," : "");
        if (line.size() + item.size() + 1 > 100 && line.size() > prefix.size()) {
            out += line + "\n";
            line = "  ";
        }
        line += (line.back() == ' ' ? "" : " ") + item;
    }
    return out + line + "\n";
}

// On NFS: the options that decide it, those that would void every lock across
// clients, and whether servers on two clients were judged.
std::string nfs_text(const TargetResult& t) {
    const NfsLocking l = nfs_locking(t.info.value("mount_options", ""));
    std::string out = fmt::format("on NFS: vers={}, local_lock={}{} decide how locks work here\n", l.vers.empty() ? "?" : l.vers,
                                  l.local_lock, l.nolock ? ", nolock" : "");
    if (l.local_lock != "none")
        out += fmt::format("  this mount keeps {} on this client (nfs(5): {}):\n    a lock here never keeps out a server on "
                           "another client; every strategy resting on one is UNSAFE across clients\n",
                           l.local_lock == "all" ? "every lock" : l.local_lock == "flock" ? "flock() locks" : "fcntl() and lockf() locks",
                           l.nolock ? "nolock" : "local_lock=" + l.local_lock);
    else
        out += "  unsafe across clients with (nfs(5)): nolock or local_lock=all (every lock stays on its client),\n"
               "    local_lock=flock or local_lock=posix (those locks stay on it)\n";
    bool across = false;
    for (const StrategyCell& c : t.cells)
        for (const ScenarioResult& s : c.scenarios) across = across || s.scenario.rfind("nfs-", 0) == 0;
    if (across)
        out += "  servers on two clients were judged in an NFS lab with these options (the nfs-* scenarios above)\n";
    else
        out += "  judged here: processes on this client only; servers on two clients (nfs-cross-client,\n"
               "    nfs-server-restart, nfs-server-state-loss, nfs-lease-expiry, nfs-client-crash): ilk advise DIR --guest IMAGE\n";
    return out;
}

}  // namespace

NfsLocking nfs_locking(const std::string& options) {
    NfsLocking l;
    std::string local_lock;
    size_t start = 0;
    while (start <= options.size()) {
        const size_t comma = std::min(options.find(',', start), options.size());
        const std::string opt = options.substr(start, comma - start);
        if (opt.rfind("vers=", 0) == 0) l.vers = opt.substr(5);
        if (opt.rfind("nfsvers=", 0) == 0) l.vers = opt.substr(8);
        if (opt.rfind("local_lock=", 0) == 0) local_lock = opt.substr(11);
        if (opt == "nolock") l.nolock = true;
        start = comma + 1;
    }
    l.local_lock = !local_lock.empty() ? local_lock : l.nolock ? "all" : "none";
    return l;
}

TargetResult with_network_cells(const TargetResult& dir, const TargetResult& network) {
    TargetResult out = dir;
    for (StrategyCell& c : out.cells) {
        const auto it = std::find_if(network.cells.begin(), network.cells.end(), [&](const StrategyCell& n) { return n.strategy == c.strategy; });
        if (it == network.cells.end()) continue;
        for (const ScenarioResult& s : it->scenarios) {
            ScenarioResult r = s;
            r.scenario = fmt::format("{} ({})", s.scenario, network.name);
            c.scenarios.push_back(std::move(r));
        }
        fold_cell(c);
    }
    return out;
}

Advice advise(const TargetResult& target, const std::vector<std::string>& order) {
    Advice a;
    for (const StrategyCell& c : target.cells) a.ranked.push_back(&c);
    auto position = [&](const std::string& name) {
        return std::find(order.begin(), order.end(), name) - order.begin();
    };
    std::stable_sort(a.ranked.begin(), a.ranked.end(), [&](const StrategyCell* x, const StrategyCell* y) {
        const Score sx = score(*x), sy = score(*y);
        if (sx.rank != sy.rank) return sx.rank < sy.rank;
        if (sx.failing != sy.failing) return sx.failing < sy.failing;
        if (sx.worst != sy.worst) return sx.worst < sy.worst;
        if (sx.safe != sy.safe) return sx.safe > sy.safe;
        if (sx.schedules != sy.schedules) return sx.schedules > sy.schedules;
        return position(x->strategy) < position(y->strategy);
    });
    for (const StrategyCell* c : a.ranked) {
        if (c->verdict != Verdict::SAFE) continue;
        if (a.recommended.empty()) a.recommended = c->strategy;
        else a.also_safe.push_back(c->strategy);
    }
    if (a.recommended.empty())
        for (const StrategyCell* c : a.ranked)
            if (c->verdict != Verdict::UNSUPPORTED) {
                a.least_bad = c->strategy;
                break;
            }
    return a;
}

namespace {
// Which scenarios a cell holds under (SAFE) and which it does not (failing),
// and those not judged (UNSUPPORTED, or left out by the operator).
std::string holds_text(const StrategyCell& c, const std::vector<std::string>& skipped) {
    std::vector<std::string> holds, fails, not_judged;
    for (const ScenarioResult& r : c.scenarios) {
        if (r.verdict == Verdict::SAFE) holds.push_back(r.scenario);
        else if (is_failure(r.verdict)) fails.push_back(fmt::format("{} ({})", r.scenario, to_string(r.verdict)));
        else not_judged.push_back(r.scenario);
    }
    std::string out = wrap_list("  holds under:", holds);
    if (!fails.empty()) out += wrap_list("  does not hold under:", fails);
    if (!not_judged.empty()) out += wrap_list("  not judged here (could not run):", not_judged);
    if (!skipped.empty()) out += wrap_list("  left out by you (--skip-scenario): not judged, so not promised:", skipped);
    return out;
}
}  // namespace

std::string advice_text(const TargetResult& t, const Advice& a, bool color, const std::vector<std::string>& skipped) {
    auto bold = [&](const std::string& s) { return color ? "\033[1m" + s + "\033[0m" : s; };
    std::string out = fmt::format("ilk advise — {}\n  filesystem {} ({}), mounted at {} from {}\n", t.info.value("path", t.name),
                                  t.info.value("fstype", "?"), t.info.value("mount_options", "?"), t.info.value("mount_point", "?"),
                                  t.info.value("mount_source", "?"));
    if (!t.unsupported.empty()) return out + "could not run there: " + t.unsupported + "\n";
    // What was judged: the scenarios run, and where the primitives here break their documentation.
    if (!t.cells.empty()) {
        std::vector<std::string> judged;
        for (const ScenarioResult& s : t.cells.front().scenarios) judged.push_back(s.scenario);
        out += wrap_list(fmt::format("judged under {} scenario(s): ", judged.size()), judged);
    }
    std::vector<std::string> deviations;
    if (t.probe)
        for (const Comparison& c : t.probe->comparisons)
            if (c.outcome == Outcome::deviation)
                deviations.push_back(fmt::format("{} is {} (documented: {})", c.fact_id.empty() ? "?" : c.fact_id, c.observed.dump(),
                                                 expected_text(c.expectation.value)));
    if (!deviations.empty()) {
        out += fmt::format("the primitives here deviate from the {} profile in {} fact(s):\n",
                           t.probe->profile.empty() ? "?" : t.probe->profile, deviations.size());
        for (const std::string& d : deviations) out += "  " + d + "\n";
    }
    if (const std::string fstype = t.info.value("fstype", ""); fstype.rfind("nfs", 0) == 0) out += nfs_text(t);
    out += "\n";
    auto find = [&](const std::string& name) -> const StrategyCell* {
        for (const StrategyCell* c : a.ranked)
            if (c->strategy == name) return c;
        return nullptr;
    };
    if (!a.recommended.empty()) {
        out += fmt::format("recommended: {}\n  {}\n", bold(a.recommended), cell_line(*find(a.recommended), true));
        out += holds_text(*find(a.recommended), skipped);
        if (!a.also_safe.empty()) out += fmt::format("  also SAFE here: {}\n", fmt::join(a.also_safe, ", "));
    } else {
        out += bold("no strategy is SAFE here") + ": every one failed or could not run under some scenario.\n";
        if (!a.least_bad.empty())
            out += fmt::format("least bad: {}\n  {}\n", bold(a.least_bad), cell_line(*find(a.least_bad), true)) +
                   holds_text(*find(a.least_bad), skipped) +
                   "  use it only if the situations it does not hold under cannot happen in this deployment\n"
                   "  (then say so: ilk advise DIR --skip-scenario NAME ...).\n";
    }
    out += "\nevery strategy, best first:\n";
    for (const StrategyCell* c : a.ranked) out += fmt::format("  {:<22} {}\n", c->strategy, cell_line(*c, false));
    return out;
}

}  // namespace ilk
