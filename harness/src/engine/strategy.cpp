#include "engine/strategy.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "engine/strategy_keys.h"
#include "json_number.h"
#include "profile.h"
#include "toml_entries.h"

namespace ilk {

StartResult start_legacy_pid(Server&);
StartResult start_tom_2004(Server&);
StartResult start_lifetime_lock(Server&);
StartResult start_pg_current(Server&);
StartResult start_hybrid(Server&);
StartResult start_command(Server&);
StartResult start_link_lockfile(Server&);
StartResult start_real_server(Server&);

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
        {.name = "server", .summary = "a real server (servers/*.toml), started, asked and killed as its users would", .needs_lock = false,
         .needs_segment = false, .reads = kReadsPids | kReadsSegments, .start = start_real_server, .server_files_only = true},
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
    if (s.server) j["server"] = *s.server;
}

void from_json(const nlohmann::json& j, StrategySpec& s) {
    s.name = j.value("name", "");
    s.template_name = j.value("template", "");
    s.summary = j.value("summary", "");
    s.source = j.value("source", "");
    s.lock = j.value("lock", "");
    s.segment = j.value("segment", "");
    s.startup_lock = j.value("startup_lock", false);
    s.backends = number_or(j, "backends", 1);
    s.command = j.value("command", std::vector<std::string>{});
    s.ready_file = j.value("ready_file", "");
    s.settle_ms = number_or(j, "settle_ms", 100);
    s.lock_file = j.value("lock_file", "postmaster.pid");
    s.write_pid = j.value("write_pid", true);
    s.lock_wait_ms = number_or(j, "lock_wait_ms", 0);
    s.stale_ms = number_or(j, "stale_ms", 300000);
    s.rechecks = number_or(j, "rechecks", 0);
    s.recheck_ms = number_or(j, "recheck_ms", 100);
    s.where = j.value("where", "");
    if (j.contains("server") && j["server"].is_object()) s.server = j["server"].get<ServerSpec>();
    else s.server.reset();
}

std::string pidfile_of(const StrategySpec& s) {
    if (s.server) return s.server->pidfile;
    if (s.template_name == "link-lockfile") return s.lock_file;  // liblockfile's L_PID: the lock holds the PID
    if (s.template_name != "lifetime-lock") return "postmaster.pid";
    if (!s.write_pid) return {};
    return s.lock_file == "." ? "postmaster.pid" : s.lock_file;
}

std::vector<std::filesystem::path> strategy_dirs() {
    return toml_entries::search_dirs("ILK_STRATEGY_PATH", ILK_STRATEGY_SUBDIR, ILK_SOURCE_STRATEGY_DIR);
}

namespace {

static_assert(std::ranges::all_of(kStrategyKeys, [](const StrategyKey& k) {
    return k.needed_by == nullptr || std::holds_alternative<std::string StrategySpec::*>(k.field) ||
           std::holds_alternative<std::vector<std::string> StrategySpec::*>(k.field);
}), "a key some templates need is checked for emptiness, so it must be a string or an array of strings");

using toml_entries::fail;

StrategySpec parse_one(const std::string& file, const toml::table& t, int index) {
    const std::string label = fmt::format("[[strategy]] #{}", index);
    StrategySpec s;
    toml_entries::read_keys(file, t, label, kStrategyKeys, s);
    s.where = fmt::format("{}:{}", file, t.source().begin.line);
    const StrategyTemplate* tpl = find_template(s.template_name);
    if (tpl && tpl->server_files_only)
        fail(file, t.get("template")->source(),
             fmt::format("template '{}' in {} is made from a [[server]] entry of servers/*.toml; describe the server there (servers/README.md)",
                         s.template_name, label));
    if (!tpl) {
        std::vector<std::string> names;
        for (const auto& x : strategy_templates())
            if (!x.server_files_only) names.emplace_back(x.name);
        const std::string guess = closest_match(s.template_name, names);
        fail(file, t.get("template")->source(),
             fmt::format("unknown template '{}' in {}{}; templates: {}", s.template_name, label,
                         guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess), fmt::join(names, ", ")));
    }
    for (const StrategyKey& key : kStrategyKeys)
        if (key.needed_by != nullptr && tpl->*key.needed_by && toml_entries::missing(s, key))
            fail(file, t.source(),
                 fmt::format("template '{}' needs '{}' in {}; add {}  # {}", s.template_name, key.name, label,
                             toml_entries::example(key), key.help));
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
    toml_entries::for_each_entry(dirs, "strategy", "strategy files", [&](const std::string& file, const toml::table& t, int index) {
        StrategySpec s = parse_one(file, t, index);
        toml_entries::check_unique(first_defined, "strategy", s.name, s.where, file, *t.get("name"));
        out.push_back(std::move(s));
    });
    return out;
}

}  // namespace ilk
