#include "engine/strategy.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "profile.h"

namespace ilk {

StartResult start_legacy_pid(Server&);
StartResult start_tom_2004(Server&);
StartResult start_lifetime_lock(Server&);
StartResult start_pg_current(Server&);
StartResult start_hybrid(Server&);

const std::vector<StrategyTemplate>& strategy_templates() {
    static const std::vector<StrategyTemplate> templates{
        {.name = "legacy-pid", .summary = "O_EXCL pidfile + kill(pid, 0)", .needs_lock = false, .needs_segment = false,
         .reads = kReadsPids, .start = start_legacy_pid},
        {.name = "tom-2004",
         .summary = "Tom Lane's 9 steps: pidfile + segment attach count (startup_lock adds the second lockfile)",
         .needs_lock = false, .needs_segment = true, .reads = kReadsPids | kReadsSegments, .start = start_tom_2004},
        {.name = "lifetime-lock", .summary = "a file lock held for the server's whole life", .needs_lock = true,
         .needs_segment = false, .reads = 0, .start = start_lifetime_lock},
        {.name = "pg-current", .summary = "PostgreSQL 16-17 CreateLockFile + SysV interlock segment", .needs_lock = false,
         .needs_segment = true, .reads = kReadsPids | kReadsSegments, .start = start_pg_current},
        {.name = "hybrid", .summary = "lifetime lock + segment attach-count check", .needs_lock = true, .needs_segment = true,
         .reads = kReadsSegments, .start = start_hybrid},
    };
    return templates;
}

const StrategyTemplate* find_template(std::string_view name) {
    for (const auto& t : strategy_templates())
        if (name == t.name) return &t;
    return nullptr;
}

void to_json(nlohmann::json& j, const StrategySpec& s) {
    j = {{"name", s.name}, {"template", s.template_name}, {"summary", s.summary}, {"source", s.source},
         {"lock", s.lock}, {"segment", s.segment}, {"startup_lock", s.startup_lock}, {"backends", s.backends},
         {"where", s.where}};
}

void from_json(const nlohmann::json& j, StrategySpec& s) {
    s.name = j.value("name", "");
    s.template_name = j.value("template", "");
    s.summary = j.value("summary", "");
    s.source = j.value("source", "");
    s.lock = j.value("lock", "");
    s.segment = j.value("segment", "");
    s.startup_lock = j.value("startup_lock", false);
    s.backends = j.value("backends", 1);
    s.where = j.value("where", "");
}

std::vector<std::filesystem::path> strategy_dirs() {
    std::vector<std::filesystem::path> dirs;
    if (const char* env = std::getenv("ILK_STRATEGY_PATH"); env && *env) {
        std::string_view rest(env);
        while (!rest.empty()) {
            const size_t colon = rest.find(':');
            if (colon != 0) dirs.emplace_back(rest.substr(0, colon));
            if (colon == std::string_view::npos) break;
            rest.remove_prefix(colon + 1);
        }
        return dirs;
    }
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    for (const std::filesystem::path& d : {exe.parent_path().parent_path() / ILK_STRATEGY_SUBDIR,
                                           std::filesystem::path(ILK_SOURCE_STRATEGY_DIR)})
        if (std::filesystem::is_directory(d, ec)) {
            dirs.push_back(d);
            break;
        }
    return dirs;
}

namespace {

[[noreturn]] void fail(const std::string& file, const toml::source_region& at, const std::string& msg) {
    throw std::runtime_error(fmt::format("{}:{}:{}: {}", file, at.begin.line, at.begin.column, msg));
}

StrategySpec parse_one(const std::string& file, const toml::table& t, int index) {
    static const std::vector<std::string> keys{"name", "template", "summary", "source", "lock", "segment", "startup_lock", "backends"};
    for (const auto& [k, v] : t) {
        const std::string key(k.str());
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
        const std::string guess = closest_match(key, keys);
        fail(file, v.source(), fmt::format("unknown key '{}' in [[strategy]] #{}{}", key, index,
                                           guess.empty() ? "" : fmt::format("; did you mean '{}'?", guess)));
    }
    auto str = [&](const char* key, bool required) -> std::string {
        const toml::node* n = t.get(key);
        if (!n) {
            if (required) fail(file, t.source(), fmt::format("[[strategy]] #{} has no '{}'", index, key));
            return {};
        }
        if (!n->is_string()) fail(file, n->source(), fmt::format("expected a string for '{}'", key));
        return n->value_exact<std::string>().value_or("");
    };
    StrategySpec s;
    s.name = str("name", true);
    s.template_name = str("template", true);
    s.summary = str("summary", false);
    s.source = str("source", true);
    s.lock = str("lock", false);
    s.segment = str("segment", false);
    if (const toml::node* n = t.get("startup_lock")) {
        if (!n->is_boolean()) fail(file, n->source(), "expected true or false for 'startup_lock'");
        s.startup_lock = *n->value_exact<bool>();
    }
    if (const toml::node* n = t.get("backends")) {
        if (!n->is_integer() || *n->value_exact<int64_t>() < 0 || *n->value_exact<int64_t>() > 16)
            fail(file, n->source(), "expected an integer from 0 to 16 for 'backends'");
        s.backends = static_cast<int>(*n->value_exact<int64_t>());
    }
    s.where = fmt::format("{}:{}", file, t.source().begin.line);
    const StrategyTemplate* tpl = find_template(s.template_name);
    if (!tpl) {
        std::vector<std::string> names;
        for (const auto& x : strategy_templates()) names.emplace_back(x.name);
        const std::string guess = closest_match(s.template_name, names);
        fail(file, t.get("template")->source(),
             fmt::format("unknown template '{}'{}; templates: {}", s.template_name,
                         guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess), fmt::join(names, ", ")));
    }
    if (tpl->needs_lock && s.lock.empty()) fail(file, t.source(), fmt::format("template '{}' needs a 'lock' primitive", s.template_name));
    if (tpl->needs_segment && s.segment.empty())
        fail(file, t.source(), fmt::format("template '{}' needs a 'segment' primitive", s.template_name));
    return s;
}

}  // namespace

std::vector<StrategySpec> load_strategies(const std::vector<std::filesystem::path>& dirs) {
    std::vector<StrategySpec> out;
    std::set<std::string> seen;
    for (const auto& dir : dirs) {
        std::vector<std::filesystem::path> files;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(dir, ec))
            if (e.path().extension() == ".toml") files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            const std::string file = f.string();
            toml::table doc;
            try {
                doc = toml::parse_file(file);
            } catch (const toml::parse_error& e) {
                fail(file, e.source(), std::string(e.description()));
            }
            for (const auto& [k, v] : doc)
                if (k.str() != "strategy") fail(file, v.source(), fmt::format("unknown table '{}'; strategy files hold [[strategy]] entries", k.str()));
            const toml::array* list = doc["strategy"].as_array();
            if (!list) continue;
            int index = 0;
            for (const auto& node : *list) {
                ++index;
                const toml::table* t = node.as_table();
                if (!t) fail(file, node.source(), "[[strategy]] entries must be tables");
                StrategySpec s = parse_one(file, *t, index);
                if (!seen.insert(s.name).second) fail(file, t->source(), fmt::format("strategy '{}' is defined twice", s.name));
                out.push_back(std::move(s));
            }
        }
    }
    return out;
}

}  // namespace ilk
