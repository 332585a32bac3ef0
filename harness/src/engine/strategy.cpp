#include "engine/strategy.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "engine/strategy_keys.h"
#include "profile.h"

namespace ilk {

StartResult start_legacy_pid(Server&);
StartResult start_tom_2004(Server&);
StartResult start_lifetime_lock(Server&);
StartResult start_pg_current(Server&);
StartResult start_hybrid(Server&);
StartResult start_command(Server&);
StartResult start_link_lockfile(Server&);

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
        {.name = "link-lockfile", .summary = "liblockfile's NFS-safe lock file: link(2) a unique file, 2 links = ours; a dead PID is stale",
         .needs_lock = false, .needs_segment = false, .reads = kReadsPids, .start = start_link_lockfile},
        // What a real program reads cannot be declared for it: everything.
        {.name = "command", .summary = "a real program as the server, its state observed from outside", .needs_lock = false,
         .needs_segment = false, .needs_command = true, .reads = kReadsPids | kReadsSegments, .start = start_command},
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
         {"command", s.command}, {"ready_file", s.ready_file}, {"settle_ms", s.settle_ms},
         {"lock_file", s.lock_file}, {"write_pid", s.write_pid}, {"lock_wait_ms", s.lock_wait_ms}, {"stale_ms", s.stale_ms},
         {"rechecks", s.rechecks}, {"recheck_ms", s.recheck_ms}, {"where", s.where}};
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
    s.command = j.value("command", std::vector<std::string>{});
    s.ready_file = j.value("ready_file", "");
    s.settle_ms = j.value("settle_ms", 100);
    s.lock_file = j.value("lock_file", "postmaster.pid");
    s.write_pid = j.value("write_pid", true);
    s.lock_wait_ms = j.value("lock_wait_ms", 0);
    s.stale_ms = j.value("stale_ms", 300000);
    s.rechecks = j.value("rechecks", 0);
    s.recheck_ms = j.value("recheck_ms", 100);
    s.where = j.value("where", "");
}

std::string pidfile_of(const StrategySpec& s) {
    if (s.template_name == "link-lockfile") return s.lock_file;  // liblockfile's L_PID: the lock holds the PID
    if (s.template_name != "lifetime-lock") return "postmaster.pid";
    if (!s.write_pid) return {};
    return s.lock_file == "." ? "postmaster.pid" : s.lock_file;
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

static_assert(std::ranges::all_of(kStrategyKeys, [](const StrategyKey& k) {
    return k.needed_by == nullptr || std::holds_alternative<std::string StrategySpec::*>(k.field) ||
           std::holds_alternative<std::vector<std::string> StrategySpec::*>(k.field);
}), "a key some templates need is checked for emptiness, so it must be a string or an array of strings");

// An absent or empty value of a key some templates need.
bool missing(const StrategySpec& s, const StrategyKey& key) {
    if (const auto* f = std::get_if<std::string StrategySpec::*>(&key.field)) return (s.**f).empty();
    if (const auto* f = std::get_if<std::vector<std::string> StrategySpec::*>(&key.field)) return (s.**f).empty();
    return false;
}

[[noreturn]] void fail(const std::string& file, const toml::source_region& at, const std::string& msg) {
    throw std::runtime_error(fmt::format("{}:{}:{}: {}", file, at.begin.line, at.begin.column, msg));
}

std::string_view type_name(const toml::node& n) {
    // Indexed by toml::node_type: none, table, array, string, integer, floating_point, boolean, date, time, date_time.
    static constexpr std::string_view names[] = {"nothing", "table", "array", "string", "integer",
                                                 "float",   "boolean", "date", "time",  "date-time"};
    static_assert(static_cast<std::size_t>(toml::node_type::date_time) == std::size(names) - 1);
    return names[static_cast<std::size_t>(n.type())];
}

const std::vector<std::string>& key_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const StrategyKey& key : kStrategyKeys) out.emplace_back(key.name);
        return out;
    }();
    return names;
}

// How to write the key, for "add ..." hints: lock = "...", followed by its help
// as a TOML comment so the hint can be pasted into the file as it stands.
std::string example(const StrategyKey& key) {
    if (std::holds_alternative<bool StrategySpec::*>(key.field)) return fmt::format("{} = true", key.name);
    if (std::holds_alternative<int StrategySpec::*>(key.field)) return fmt::format("{} = {}", key.name, key.min);
    if (std::holds_alternative<std::vector<std::string> StrategySpec::*>(key.field)) return fmt::format("{} = [\"...\"]", key.name);
    return fmt::format("{} = \"...\"", key.name);
}

// One reader per field type; each points at the value and says what it wanted.
struct Reader {
    const std::string& file;
    const toml::node& n;
    const StrategyKey& key;
    const std::string& label;

    [[noreturn]] void wrong(std::string_view expected, std::string_view got) const {
        fail(file, n.source(), fmt::format("expected {} for '{}' in {}, got {}", expected, key.name, label, got));
    }
    void operator()(std::string StrategySpec::*field, StrategySpec& s) const {
        const auto v = n.value_exact<std::string>();
        if (!v) wrong("a string (in quotes)", type_name(n));
        s.*field = *v;
    }
    void operator()(bool StrategySpec::*field, StrategySpec& s) const {
        const auto v = n.value_exact<bool>();
        if (!v) wrong("true or false", type_name(n));
        s.*field = *v;
    }
    void operator()(std::vector<std::string> StrategySpec::*field, StrategySpec& s) const {
        const toml::array* a = n.as_array();
        if (!a) wrong("an array of strings", type_name(n));
        std::vector<std::string> out;
        for (const toml::node& e : *a) {
            const auto v = e.value_exact<std::string>();
            if (!v) fail(file, e.source(), fmt::format("expected a string (in quotes) in '{}' in {}, got {}", key.name, label, type_name(e)));
            out.push_back(*v);
        }
        s.*field = std::move(out);
    }
    void operator()(int StrategySpec::*field, StrategySpec& s) const {
        const auto v = n.value_exact<int64_t>();
        const std::string expected = fmt::format("an integer from {} to {}", key.min, key.max);
        if (!v) wrong(expected, type_name(n));
        if (*v < key.min || *v > key.max) wrong(expected, std::to_string(*v));
        s.*field = static_cast<int>(*v);
    }
};

StrategySpec parse_one(const std::string& file, const toml::table& t, int index) {
    const std::string label = fmt::format("[[strategy]] #{}", index);
    const std::vector<std::string>& known = key_names();
    for (const auto& [k, v] : t) {
        if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
        const std::string guess = closest_match(k.str(), known);
        fail(file, k.source(),
             fmt::format("unknown key '{}' in {}{}", k.str(), label,
                         guess.empty() ? fmt::format("; keys: {}", fmt::join(known, ", "))
                                       : fmt::format("; did you mean '{}'?", guess)));
    }
    StrategySpec s;
    for (const StrategyKey& key : kStrategyKeys) {
        const toml::node* n = t.get(key.name);
        if (n == nullptr) {
            if (key.required)
                fail(file, t.source(),
                     fmt::format("missing required key '{}' in {}; add {}  # {}", key.name, label, example(key),
                                 key.help));
            continue;
        }
        std::visit([&](auto field) { Reader{file, *n, key, label}(field, s); }, key.field);
    }
    s.where = fmt::format("{}:{}", file, t.source().begin.line);
    const StrategyTemplate* tpl = find_template(s.template_name);
    if (!tpl) {
        std::vector<std::string> names;
        for (const auto& x : strategy_templates()) names.emplace_back(x.name);
        const std::string guess = closest_match(s.template_name, names);
        fail(file, t.get("template")->source(),
             fmt::format("unknown template '{}' in {}{}; templates: {}", s.template_name, label,
                         guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess), fmt::join(names, ", ")));
    }
    for (const StrategyKey& key : kStrategyKeys)
        if (key.needed_by != nullptr && tpl->*key.needed_by && missing(s, key))
            fail(file, t.source(),
                 fmt::format("template '{}' needs '{}' in {}; add {}  # {}", s.template_name, key.name, label,
                             example(key), key.help));
    // The lock's file is a name inside the data directory (or "." for the
    // directory itself): a server never creates, and a scenario never deletes,
    // anything outside it.
    if (const toml::node* n = t.get("lock_file");
        n && s.lock_file != "." && (s.lock_file.empty() || s.lock_file == ".." || s.lock_file.find('/') != std::string::npos))
        fail(file, n->source(),
             fmt::format("lock_file '{}' in {} is not a name inside the data directory; write a file name without '/' "
                         "(\"postmaster.pid\"), or \".\" for the data directory itself",
                         s.lock_file, label));
    return s;
}

}  // namespace

std::vector<StrategySpec> load_strategies(const std::vector<std::filesystem::path>& dirs) {
    std::vector<StrategySpec> out;
    std::map<std::string, std::string> first_defined;  // name -> file:line
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
            for (const auto& [k, v] : doc) {
                if (k.str() == "strategy") continue;
                if (!v.is_table() && !v.is_array_of_tables())
                    fail(file, k.source(),
                         fmt::format("key '{}' is outside any [[strategy]] entry; move it below a [[strategy]] line",
                                     k.str()));
                const std::string guess = closest_match(k.str(), {"strategy"});
                fail(file, k.source(),
                     fmt::format("unknown table '{}'{}; strategy files hold only [[strategy]] entries", k.str(),
                                 guess.empty() ? "" : " (did you mean 'strategy'?)"));
            }
            const toml::node* node = doc.get("strategy");
            if (node == nullptr) continue;
            // [strategy] or strategy = ... would otherwise drop every strategy in the file without a word.
            const toml::array* list = node->as_array();
            if (!list)
                fail(file, node->source(),
                     fmt::format("'strategy' is a {}; write each strategy as a [[strategy]] entry (two brackets)",
                                 type_name(*node)));
            int index = 0;
            for (const auto& entry : *list) {
                ++index;
                const toml::table* t = entry.as_table();
                if (!t)
                    fail(file, entry.source(),
                         fmt::format("[[strategy]] entries must be tables, got {}; write each as a [[strategy]] "
                                     "section of keys",
                                     type_name(entry)));
                StrategySpec s = parse_one(file, *t, index);
                const auto [first, fresh] = first_defined.emplace(s.name, s.where);
                if (!fresh)
                    fail(file, t->get("name")->source(),
                         fmt::format("strategy '{}' is defined twice (first at {}); rename one", s.name,
                                     first->second));
                out.push_back(std::move(s));
            }
        }
    }
    return out;
}

}  // namespace ilk
