#include "merge.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace ilk {

namespace {

using json = nlohmann::json;

constexpr std::string_view kMixed = "mixed: ";
constexpr std::string_view kMixedSeparator = "; ";

// Distinct values in first-seen order. A value that is already a mix (a
// merged input) is split back, so merging merges never nests "mixed: mixed:".
class Mix {
public:
    void add(const std::string& value) {
        if (value.rfind(kMixed, 0) != 0) return add_one(value);
        std::string_view rest = std::string_view(value).substr(kMixed.size());
        for (;;) {
            const size_t end = rest.find(kMixedSeparator);
            add_one(std::string(rest.substr(0, end)));
            if (end == std::string_view::npos) break;
            rest.remove_prefix(end + kMixedSeparator.size());
        }
    }
    std::string str() const {
        if (values_.size() <= 1) return values_.empty() ? "" : values_.front();
        return fmt::format("{}{}", kMixed, fmt::join(values_, kMixedSeparator));
    }

private:
    void add_one(std::string v) {
        if (!v.empty() && seen_.insert(v).second) values_.push_back(std::move(v));
    }
    std::vector<std::string> values_;
    std::unordered_set<std::string> seen_;
};

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A target's platform is "<os> <kernel>"; a profile names its platform and
// its OS ("freebsd", "FreeBSD"), so either may be what a result's OS says.
bool has_results(const NotRunPlatform& p, const std::unordered_set<std::string>& result_oses) {
    return result_oses.count(lowercase(p.name)) || (!p.os.empty() && result_oses.count(lowercase(p.os)));
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

MatrixReport merge_reports(std::vector<std::pair<std::string, MatrixReport>> inputs) {
    MatrixReport out;
    if (inputs.empty()) return out;
    out.host = inputs.front().second.host;
    Mix schedules, profiles;
    std::unordered_map<std::string, size_t> strategy_at;
    std::unordered_set<std::string> scenario_seen, not_run_seen, result_oses;
    std::vector<const NotRunPlatform*> not_run;
    size_t targets = 0;
    for (const auto& [file, r] : inputs) targets += r.targets.size();
    out.targets.reserve(targets);

    for (auto& [file, r] : inputs) {
        schedules.add(r.schedule);
        profiles.add(r.profile);
        for (const StrategyInfo& s : r.strategies) {
            const auto [it, added] = strategy_at.emplace(s.name, out.strategies.size());
            if (added) {
                out.strategies.push_back(s);
                continue;
            }
            // An input that ran the strategy from a newer file may describe it where the first did not.
            StrategyInfo& known = out.strategies[it->second];
            if (known.summary.empty()) known.summary = s.summary;
            if (known.source.empty()) known.source = s.source;
        }
        for (const ScenarioInfo& s : r.scenarios)
            if (scenario_seen.insert(s.name).second) out.scenarios.push_back(s);
        for (TargetResult& t : r.targets) {  // moved: the inputs are ours (a copy, or given up by the caller)
            result_oses.insert(lowercase(t.platform.substr(0, t.platform.find(' '))));
            out.targets.push_back(std::move(t));
            if (out.targets.back().source.empty()) out.targets.back().source = file;
        }
        for (const NotRunPlatform& p : r.not_run)
            if (not_run_seen.insert(p.name).second) not_run.push_back(&p);
        if (r.merged_from.empty())
            out.merged_from.push_back(file);
        else
            out.merged_from.insert(out.merged_from.end(), r.merged_from.begin(), r.merged_from.end());
        out.elapsed_ms += r.elapsed_ms;
        out.interrupted = out.interrupted || r.interrupted;
    }
    // Only now: a platform not run on the first host may have results from a later one.
    for (const NotRunPlatform* p : not_run)
        if (!has_results(*p, result_oses)) out.not_run.push_back(*p);
    out.schedule = schedules.str();
    out.profile = profiles.str();
    return out;
}

MatrixReport read_matrix_file(const std::string& path) {
    const std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f) throw std::runtime_error(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    std::string text;
    char buf[1 << 16];
    size_t got = 0;
    while ((got = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, got);
    // A directory opens fine and fails on the first read (EISDIR).
    if (std::ferror(f.get())) throw std::runtime_error(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));

    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number past a double (1e+380)
        // Drop nlohmann's "[json.exception.parse_error.101] " prefix; the rest names line and column.
        std::string_view what = e.what();
        if (const size_t end = what.find("] "); what.rfind("[json.exception.", 0) == 0 && end != std::string_view::npos)
            what.remove_prefix(end + 2);
        throw std::runtime_error(fmt::format("{}: not JSON: {}", path, what));
    }
    MatrixReport r;
    try {
        r = matrix_from_json(std::move(j));
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
    }
    // Counterexample paths are relative to the report's own directory: make
    // them absolute, so they still lead to their files from a merged report.
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::absolute(std::filesystem::path(path), ec).parent_path();
    for (TargetResult& t : r.targets)
        for (StrategyCell& c : t.cells)
            for (ScenarioResult& s : c.scenarios) {
                auto absolute = [&](std::string& file) {
                    if (!file.empty() && std::filesystem::path(file).is_relative()) file = (base / file).lexically_normal().string();
                };
                absolute(s.counterexample);
                for (FoundViolation& v : s.findings) absolute(v.counterexample);
            }
    return r;
}

}  // namespace ilk
