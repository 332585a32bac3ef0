#include <fmt/format.h>

#include "report.h"

namespace ilk {

namespace {

struct Palette {
    bool on;
    std::string wrap(const char* code, const std::string& s) const { return on ? fmt::format("\033[{}m{}\033[0m", code, s) : s; }
    std::string good(const std::string& s) const { return wrap("32", s); }
    std::string bad(const std::string& s) const { return wrap("31;1", s); }
    std::string dim(const std::string& s) const { return wrap("2", s); }
    std::string head(const std::string& s) const { return wrap("1", s); }
};

std::string value_text(const Fact& f) {
    if (!f.measured) return "not measured";
    if (f.value.is_boolean()) return f.value.get<bool>() ? "yes" : "no";
    if (f.value.is_string()) return f.value.get<std::string>();
    if (f.value.is_array()) {
        std::string out;
        for (const auto& v : f.value) out += (out.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
        return out.empty() ? "none" : out;
    }
    return f.value.dump();
}

std::string fact_line(const Fact& f, const Palette& pal) {
    std::string extra;
    if (f.evidence.contains("handover_ms")) extra = fmt::format(" (hand-over {:.2f} ms)", f.evidence["handover_ms"].get<double>());
    if (!f.measured) extra = " — " + f.reason;
    const std::string v = value_text(f);
    return fmt::format("  {:<58} {}{}\n", f.id, f.measured ? v : pal.dim(v), pal.dim(extra));
}

}  // namespace

std::string probe_report_text(const ProbeReport& r, const TextOptions& o) {
    const Palette pal{o.color};
    std::string out;
    const auto& h = r.host;
    out += pal.head(fmt::format("ilk probe — {} {} ({}), {}\n", h.value("os", "?"), h.value("kernel", "?"),
                                h.value("libc", "?"), h.value("hostname", "?")));
    out += fmt::format("target: {} ({}, {})\n", r.target.value("path", "?"), r.target.value("fstype", "unknown fs"),
                       r.target.value("mount_options", ""));
    // A network mount (ilk probe --nfs): what was asked, and who served and mounted it.
    if (const auto m = r.target.find("mount"); m != r.target.end() && m->is_object()) {
        std::string clients;
        for (const auto& c : r.target.value("clients", nlohmann::json::array()))
            if (c.is_object()) clients += fmt::format("{}{} ({})", clients.empty() ? "" : ", ", c.value("name", "?"), c.value("kernel", "?"));
        const nlohmann::json server = r.target.value("server", nlohmann::json::object());
        out += fmt::format("network mount {}: asked -o {}; served by {} ({}); mounted on {}\n", r.target.value("name", "?"), m->value("asked", ""),
                           server.is_object() ? server.value("implementation", "?") : "?",
                           server.is_object() ? server.value("export", "?") : "?", clients.empty() ? "?" : clients);
    }
    if (const auto u = r.target.find("unsupported"); u != r.target.end() && u->is_string()) out += pal.bad("not probed: ") + u->get<std::string>() + "\n";
    for (const std::string& c : r.cleaned) out += fmt::format("cleaned up after an earlier run: {}\n", c);
    for (const PluginLoadFailure& f : r.load_failures) out += pal.bad("plugin not loaded: ") + f.library.string() + ": " + f.cause + "\n";
    out += "\n" + pal.head("primitives") + "\n";
    for (const PrimitiveStatus& p : r.primitives)
        out += fmt::format("  {:<10} {:<8} {:<12} {}\n", p.name, p.kind, p.plugin,
                           p.supported ? pal.good("supported") : pal.bad("unsupported: ") + p.reason);
    out += "\n" + pal.head("facts") + "\n";
    for (const auto& [id, f] : r.facts) {
        out += fact_line(f, pal);
        if (o.verbose && !f.evidence.empty()) out += pal.dim("      " + f.evidence.dump()) + "\n";
    }
    if (!r.profile.empty()) {
        int matches = 0, deviations = 0, other = 0;
        std::string lines;
        for (const Comparison& c : r.comparisons) {
            if (c.outcome == Outcome::match) {
                ++matches;
                continue;
            }
            if (is_deviation(c.outcome)) {
                ++deviations;
            } else {
                ++other;
                if (!o.verbose) continue;
            }
            lines += fmt::format("  {} {}: expected {}, observed {}\n      claim: {} ({}:{})\n",
                                 is_deviation(c.outcome) ? pal.bad(std::string(to_string(c.outcome))) : pal.dim(std::string(to_string(c.outcome))),
                                 c.fact_id, expected_text(c.expectation.value), c.observed.is_null() ? c.reason : c.observed.dump(),
                                 c.expectation.source, c.expectation.where.file, c.expectation.where.line);
        }
        out += "\n" + pal.head(fmt::format("profile {}: {} as documented, {} deviations, {} not comparable here",
                                            r.profile, matches, deviations, other)) + "\n" + lines;
    }
    out += fmt::format("\n{} facts in {:.0f} ms{}\n", r.facts.size(), r.elapsed_ms, r.interrupted ? " (interrupted: partial report)" : "");
    return out;
}

}  // namespace ilk
