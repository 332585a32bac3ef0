// The JUnit XML report, for CI servers: one <testsuite> per target result,
// one <testcase> per strategy x scenario in it (classname
// ilk.<platform>-<target>.<strategy>, name = scenario). Failures (the verdict
// table, model/verdict.h) with a counterexample (UNSAFE, STUCK) fail, those
// without one (ERROR: the kit, not the strategy) are errors, UNSUPPORTED is
// skipped with its reason. The shape is the common Ant/Jenkins one
// (tests/reports/junit.xsd checks it).
#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>

#include <fmt/format.h>

#include "writers.h"

namespace ilk {

namespace {

using json = nlohmann::json;

bool allowed_in_xml(uint32_t cp) {
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
           (cp >= 0x10000 && cp <= 0x10FFFF);
}

// XML 1.0 text or attribute value. Strings come from files and processes, so
// they may hold anything: invalid UTF-8 becomes U+FFFD (a parser would reject
// the document), code points XML 1.0 forbids are dropped, and in attributes
// tab/newline are written as references so attribute normalization keeps them.
std::string xml(std::string_view s, bool attribute = false) {
    std::string out;
    out.reserve(s.size() + 16);
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1Fu : len == 3 ? c & 0x0Fu : c & 0x07u;
        bool valid = len != 0 && i + len <= s.size();
        for (size_t k = 1; valid && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            valid = (cc & 0xC0) == 0x80;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        valid = valid && !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000);
        if (!valid) {
            out += "\xEF\xBF\xBD";
            i += 1;
            continue;
        }
        if (allowed_in_xml(cp)) {
            switch (cp) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;  // also keeps "]]>" out of text
            case '"': out += attribute ? "&quot;" : "\""; break;
            case '\'': out += attribute ? "&apos;" : "'"; break;
            case '\t': out += attribute ? "&#9;" : "\t"; break;
            case '\n': out += attribute ? "&#10;" : "\n"; break;
            case '\r': out += "&#13;"; break;
            default: out.append(s.substr(i, len));
            }
        }
        i += len;
    }
    return out;
}

std::string attr(std::string_view s) { return xml(s, true); }

// A classname segment: Jenkins splits classnames at dots (package.class), so
// only the platform part keeps its dots; spaces and slashes become dashes.
std::string slug(std::string_view s, bool keep_dots) {
    std::string out;
    for (const char ch : s) {
        const bool plain = std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '+' || (ch == '.' && keep_dots);
        const char c = plain ? ch : ch == '.' ? '_' : '-';
        if (c == '-' && (out.empty() || out.back() == '-')) continue;
        out += c;
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "unnamed" : out;
}

std::string secs(double ms) { return fmt::format("{:.3f}", ms / 1000); }

// The model has no start time of a run: the time of writing it is, in UTC,
// without a zone as the common shape wants it.
std::string timestamp_now() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    return buf;
}

struct Counts {
    int tests = 0, failures = 0, errors = 0, skipped = 0;
    void add(const Counts& o) {
        tests += o.tests;
        failures += o.failures;
        errors += o.errors;
        skipped += o.skipped;
    }
    std::string attributes() const {
        return fmt::format("tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"", tests, failures, errors, skipped);
    }
};

std::string failure_body(const std::string& strategy, const ScenarioResult& s, const TargetResult& t) {
    std::string body = fmt::format("{}: {} under {} on {} ({})\n{}\n", to_string(s.verdict), strategy, s.scenario, t.name, t.platform,
                                   s.reason.empty() ? "no explanation recorded" : s.reason);
    if (!s.variant.empty()) body += fmt::format("variant: {}\n", s.variant);
    if (!s.schedule.empty()) body += fmt::format("schedule: {} (B = B takes a step, !B = B is SIGKILLed)\n", fmt::join(s.schedule, " "));
    body += fmt::format("searched: {} schedule(s), {} crash fault(s)\n", s.schedules, s.faults);
    if (!s.counterexample.empty()) body += fmt::format("counterexample: {}\nreplay: ilk replay {}\n", s.counterexample, s.counterexample);
    if (!s.transcript.is_null())
        body += "what each contender saw:\n" + s.transcript.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    return xml(body);
}

std::string testcase(const std::string& classname, const std::string& strategy, const ScenarioResult& s, const TargetResult& t,
                     Counts& n) {
    ++n.tests;
    std::string out = fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\">\n", attr(s.scenario), attr(classname),
                                  secs(s.elapsed_ms));
    const std::string message = s.reason.empty() ? fmt::format("{} under {}", to_string(s.verdict), s.scenario) : s.reason;
    if (is_failure(s.verdict) && has_counterexample(s.verdict)) {  // a finding about the platform
        ++n.failures;
        out += fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", attr(message), to_string(s.verdict),
                           failure_body(strategy, s, t));
    } else if (is_failure(s.verdict)) {  // the kit's own failure
        ++n.errors;
        out += fmt::format("      <error message=\"{}\" type=\"{}\">{}</error>\n", attr(message), to_string(s.verdict),
                           failure_body(strategy, s, t));
    } else if (s.verdict == Verdict::UNSUPPORTED) {
        ++n.skipped;
        out += fmt::format("      <skipped message=\"{}\"/>\n", attr(s.matters ? message : message + " (does not matter for this cell)"));
    } else {
        out += fmt::format("      <system-out>SAFE: {} schedule(s), {} crash fault(s){}{}</system-out>\n", s.schedules, s.faults,
                           s.complete ? "" : "; partial: SAFE within the schedules run (raise --max-schedules or --budget)",
                           s.coverage.empty() ? "" : xml("; " + s.coverage, false));
    }
    return out + "    </testcase>\n";
}

std::string property(const char* name, std::string_view value) {
    return fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, attr(value));
}

struct Suite {
    std::string xml;
    Counts counts;
};

Suite testsuite(const MatrixReport& r, const TargetResult& t, size_t id, bool duplicated, const std::string& timestamp) {
    // Two results for one platform and target (ilk merge) need distinct names.
    std::string key = slug(t.platform, true) + "-" + slug(t.name, true);
    if (duplicated) {
        std::string from = !t.source.empty() ? t.source : !t.host.empty() ? t.host : std::to_string(id);
        if (from.size() > 5 && from.compare(from.size() - 5, 5, ".json") == 0) from.resize(from.size() - 5);
        key += "-" + slug(from, false);
    }
    std::string cases;
    Counts n;
    if (!t.unsupported.empty()) {
        ++n.tests;
        ++n.skipped;
        cases = fmt::format("    <testcase name=\"set-up\" classname=\"ilk.{}.target\" time=\"{}\">\n"
                            "      <skipped message=\"{}\"/>\n    </testcase>\n",
                            attr(key), secs(t.elapsed_ms), attr("target could not be set up: " + t.unsupported));
    }
    for (const StrategyCell& c : t.cells)
        for (const ScenarioResult& s : c.scenarios) cases += testcase("ilk." + key + "." + slug(c.strategy, false), c.strategy, s, t, n);

    std::string hostname = !t.host.empty() ? t.host : r.host.value("hostname", "");
    std::string out = fmt::format("  <testsuite name=\"ilk.{}\" {} time=\"{}\" timestamp=\"{}\" hostname=\"{}\" id=\"{}\">\n", attr(key),
                                  n.attributes(), secs(t.elapsed_ms), timestamp, attr(hostname.empty() ? "unknown" : hostname), id);
    out += "    <properties>\n";
    out += property("platform", t.platform) + property("target", t.name) + property("kind", t.kind);
    for (const char* key_name : {"path", "fstype", "mount_options"})
        if (t.info.contains(key_name) && t.info.at(key_name).is_string()) out += property(key_name, t.info.at(key_name).get<std::string>());
    if (t.segments_only) out += property("segments_only", "true");
    if (!t.source.empty()) out += property("source", t.source);
    out += property("profile", r.profile) + property("schedule", r.schedule);
    // Each cell as the matrices show it: its worst verdict, failing of judged scenarios.
    for (const StrategyCell& c : t.cells) out += property(("cell." + c.strategy).c_str(), count_label(to_string(c.verdict), c));
    out += "    </properties>\n" + cases + "  </testsuite>\n";
    return {out, n};
}

}  // namespace

std::string matrix_junit(const MatrixReport& r, const WriteOptions&) {
    const std::string timestamp = timestamp_now();
    std::string suites;
    Counts total;
    for (const Column& c : columns(r))
        for (const TargetResult* t : c.results) {
            // Ids follow the report's order of targets, not the column order.
            const auto id = static_cast<size_t>(t - r.targets.data());
            Suite s = testsuite(r, *t, id, c.results.size() > 1, timestamp);
            total.add(s.counts);
            suites += s.xml;
        }
    return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ilk\" {} time=\"{}\">\n{}</testsuites>\n",
                       total.attributes(), secs(r.elapsed_ms), suites);
}

}  // namespace ilk
