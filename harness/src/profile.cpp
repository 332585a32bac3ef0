// Platform profiles: loading platforms/*.toml strictly (a typo in a profile must
// not silently drop a claim) and comparing the claims with measured facts.
#include "profile.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "profile_keys.h"

namespace ilk {

namespace fs = std::filesystem;

ProfileError::ProfileError(const SourceLocation& where, const std::string& message)
    : std::runtime_error(fmt::format("{}:{}:{}: {}", where.file, where.line, where.column, message)),
      where_(where) {}

namespace {

// The one table of profile keys: what is accepted, required and how it is typed
// all come from here, and platforms/README.md is tested against it.
struct KeyBinding {
    ProfileKey key;
    void (*store)(PlatformProfile&, Expectation&, nlohmann::json&&);
};

const std::vector<KeyBinding>& key_bindings() {
    using J = nlohmann::json;
    static const std::vector<KeyBinding> table{
        {{"platform", "name", kKeyTypeString, KeyNeed::required, "profile name; must equal the file stem (linux.toml: \"linux\")"},
         [](PlatformProfile& p, Expectation&, J&& v) { p.name = v.get<std::string>(); }},
        {{"platform", "os", kKeyTypeString, KeyNeed::required, "uname sysname the profile applies to (Linux, FreeBSD, Darwin, HP-UX)"},
         [](PlatformProfile& p, Expectation&, J&& v) { p.os = v.get<std::string>(); }},
        {{"platform", "summary", kKeyTypeString, KeyNeed::optional, "one line about the platform, shown in reports"},
         [](PlatformProfile& p, Expectation&, J&& v) { p.summary = v.get<std::string>(); }},
        {{"platform", "targets", kKeyTypeStrings, KeyNeed::optional,
          "the targets the platform's default run covers: kit-made target names (ilk run --target), or for a platform "
          "not run here the filesystems its documentation speaks of"},
         [](PlatformProfile& p, Expectation&, J&& v) { p.targets = v.get<std::vector<std::string>>(); }},
        {{"expect", "fact", kKeyTypeString, KeyNeed::required, "fact id the claim is about; a * component matches any one component"},
         [](PlatformProfile&, Expectation& e, J&& v) { e.fact = v.get<std::string>(); }},
        {{"expect", "value", kKeyTypeValue, KeyNeed::one_claim, "the value the documentation promises"},
         [](PlatformProfile&, Expectation& e, J&& v) { e.value = std::move(v); }},
        {{"expect", "at_most", kKeyTypeNumber, KeyNeed::one_claim,
          "for a numeric fact: the most the documentation allows (0 or more); a larger measurement is a deviation"},
         [](PlatformProfile&, Expectation& e, J&& v) { e.value = J{{kBoundKey, std::move(v)}}; }},
        {{"expect", "source", kKeyTypeString, KeyNeed::required, "the documentation that makes the claim; must not be empty"},
         [](PlatformProfile&, Expectation& e, J&& v) { e.source = v.get<std::string>(); }},
        {{"expect", "note", kKeyTypeString, KeyNeed::optional, "why the claim matters, or where it stops holding"},
         [](PlatformProfile&, Expectation& e, J&& v) { e.note = v.get<std::string>(); }},
        {{"expect", "known_deviation", kKeyTypeString, KeyNeed::optional,
          "the platform is known to differ from the claim, and why (turns deviation into known_deviation)"},
         [](PlatformProfile&, Expectation& e, J&& v) { e.known_deviation = v.get<std::string>(); }},
        {{"expect", "targets", kKeyTypeStrings, KeyNeed::optional,
          "the targets the claim is written for (kit-made targets or network mounts: nfs3-nolock); absent: every target"},
         [](PlatformProfile&, Expectation& e, J&& v) { e.targets = v.get<std::vector<std::string>>(); }},
    };
    return table;
}

// The key names of one section, or with no section the section names.
std::vector<std::string> names_in(std::string_view section = {}) {
    std::vector<std::string> out;
    for (const auto& b : key_bindings()) {
        const std::string_view name = section.empty() ? b.key.section : b.key.name;
        if ((section.empty() || b.key.section == section) && std::find(out.begin(), out.end(), name) == out.end())
            out.emplace_back(name);
    }
    return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == sep) {
            out.emplace_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

bool blank(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

std::string_view type_name(const toml::node& n) {
    // Indexed by toml::node_type: none, table, array, string, integer, floating_point, boolean, date, time, date_time.
    static constexpr std::string_view names[] = {"nothing", "table", "array", "string", "integer",
                                                 "float",   "bool",  "date",  "time",   "date-time"};
    static_assert(static_cast<std::size_t>(toml::node_type::date_time) == std::size(names) - 1);
    return names[static_cast<std::size_t>(n.type())];
}

// "; did you mean 'x'?" when something is close, else the full list so the
// reader still sees what is allowed.
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates) {
    const std::string best = closest_match(word, candidates);
    if (!best.empty()) return fmt::format("; did you mean '{}'?", best);
    return fmt::format("; expected one of: {}", fmt::join(candidates, ", "));
}

bool valid_primitive(std::string_view p) {
    if (p == "*") return true;
    return !p.empty() && std::all_of(p.begin(), p.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

class Loader {
public:
    explicit Loader(fs::path file) : file_(std::move(file)) {}

    PlatformProfile load() {
        const toml::table root = parse();
        check_top_level(root);
        PlatformProfile profile;
        profile.file = file_;
        read_platform(root, profile);
        read_expectations(root, profile);
        return profile;
    }

private:
    SourceLocation at(const toml::source_region& s) const {
        return {file_.string(), static_cast<int>(s.begin.line), static_cast<int>(s.begin.column)};
    }
    SourceLocation at(const toml::node& n) const { return at(n.source()); }

    [[noreturn]] void fail(const SourceLocation& where, const std::string& message) const {
        throw ProfileError(where, message);
    }
    [[noreturn]] void wrong_type(const toml::node& n, std::string_view expected, std::string_view what) const {
        fail(at(n), fmt::format("expected {} for {}, got {}", expected, what, type_name(n)));
    }

    std::string read_text() const {
        const SourceLocation nowhere{file_.string(), 0, 0};
        std::error_code ec;
        const fs::file_status st = fs::status(file_, ec);
        if (!fs::exists(st))
            fail(nowhere, "cannot read profile: no such file; check the path or ILK_PLATFORM_PATH");
        if (!fs::is_regular_file(st)) fail(nowhere, "cannot read profile: not a regular file");
        std::ifstream in(file_, std::ios::binary);
        std::ostringstream text;
        if (in) text << in.rdbuf();
        if (!in || in.bad()) fail(nowhere, fmt::format("cannot read profile: {}", std::strerror(errno)));
        return text.str();
    }

    toml::table parse() const {
        const std::string text = read_text();
        const std::string path = file_.string();
        try {
            return toml::parse(std::string_view{text}, std::string_view{path});
        } catch (const toml::parse_error& e) {
            fail(at(e.source()), std::string(e.description()));
        }
    }

    void check_top_level(const toml::table& root) const {
        const std::vector<std::string> sections = names_in();
        for (auto&& [k, v] : root) {
            if (std::find(sections.begin(), sections.end(), k.str()) != sections.end()) continue;
            if (v.is_table() || v.is_array_of_tables())
                fail(at(k.source()),
                     fmt::format("unknown top-level table [{}]{}", k.str(), suggestion(k.str(), sections)));
            fail(at(k.source()), fmt::format("unexpected top-level key '{}'; keys belong in [platform] or an "
                                             "[[expect]] entry",
                                             k.str()));
        }
    }

    // section is "platform" or "expect"; index numbers [[expect]] entries from 1.
    void read_section(const toml::table& t, std::string_view section, std::size_t index, PlatformProfile& p,
                      Expectation& e) const {
        const std::string label =
            section == "platform" ? std::string("[platform]") : fmt::format("[[expect]] #{}", index);
        const std::vector<std::string> known = names_in(section);
        for (auto&& [k, v] : t) {
            if (std::find(known.begin(), known.end(), k.str()) == known.end())
                fail(at(k.source()),
                     fmt::format("unknown key '{}' in {}{}", k.str(), label, suggestion(k.str(), known)));
        }
        check_one_claim(t, section, label);
        for (const auto& b : key_bindings()) {
            if (b.key.section != section) continue;
            const toml::node* n = t.get(b.key.name);
            if (n == nullptr) {
                if (b.key.need == KeyNeed::required)
                    fail(at(t), fmt::format("missing required key '{}' in {}", b.key.name, label));
                continue;
            }
            const std::string what = describe(section, label, b.key.name);
            if (b.key.name == "targets") p.targets_where = at(*n);
            b.store(p, e,
                    b.key.type == kKeyTypeString    ? read_string(*n, what)
                    : b.key.type == kKeyTypeStrings ? read_strings(*n, what)
                    : b.key.type == kKeyTypeNumber  ? read_number(*n, what)
                                                    : read_value(*n, section, label, b.key.name));
        }
    }

    // A claim is stated in exactly one shape (value, at_most): none leaves
    // nothing to compare, two would make one of them silently win.
    void check_one_claim(const toml::table& t, std::string_view section, const std::string& label) const {
        std::vector<std::string> shapes;
        std::vector<const toml::node*> given;
        for (const auto& b : key_bindings()) {
            if (b.key.section != section || b.key.need != KeyNeed::one_claim) continue;
            shapes.emplace_back(b.key.name);
            if (const toml::node* n = t.get(b.key.name)) given.push_back(n);
        }
        if (shapes.empty()) return;
        const std::string choices = fmt::format("{}", fmt::join(shapes, " or "));
        if (given.empty())
            fail(at(t), fmt::format("missing the claim in {}: give {} (see platforms/README.md)", label, choices));
        if (given.size() > 1) {
            const auto last = std::max_element(given.begin(), given.end(), [](const toml::node* a, const toml::node* b) {
                return later(b->source(), a->source());
            });
            fail(at(**last), fmt::format("more than one claim in {}: give {}, not both", label, choices));
        }
    }

    static bool later(const toml::source_region& a, const toml::source_region& b) {
        return a.begin.line != b.begin.line ? a.begin.line > b.begin.line : a.begin.column > b.begin.column;
    }

    // How a key is named in messages: "platform.name", "source of [[expect]] #3".
    static std::string describe(std::string_view section, const std::string& label, std::string_view key) {
        return section == "platform" ? fmt::format("platform.{}", key) : fmt::format("{} of {}", key, label);
    }

    nlohmann::json read_string(const toml::node& n, const std::string& what) const {
        if (auto s = n.value_exact<std::string>()) return *s;
        wrong_type(n, "a string", what);
    }

    nlohmann::json read_strings(const toml::node& n, const std::string& what) const {
        const toml::array* a = n.as_array();
        if (a == nullptr) wrong_type(n, "an array of strings", what);
        nlohmann::json out = nlohmann::json::array();
        for (std::size_t i = 0; i < a->size(); ++i) {
            auto s = (*a)[i].value_exact<std::string>();
            if (!s) wrong_type((*a)[i], "a string", fmt::format("{}[{}]", what, i));
            out.push_back(*s);
        }
        return out;
    }

    nlohmann::json read_number(const toml::node& n, const std::string& what) const {
        if (auto i = n.value_exact<std::int64_t>()) return *i;
        if (auto d = n.value_exact<double>()) return *d;
        wrong_type(n, "a number", what);
    }

    nlohmann::json read_value(const toml::node& n, std::string_view section, const std::string& label,
                              std::string_view key) const {
        const std::string what = describe(section, label, key);
        if (auto b = n.value_exact<bool>()) return *b;
        if (auto i = n.value_exact<std::int64_t>()) return *i;
        if (auto s = n.value_exact<std::string>()) return *s;
        if (const toml::array* a = n.as_array()) {
            nlohmann::json out = nlohmann::json::array();
            for (std::size_t i = 0; i < a->size(); ++i) {
                auto s = (*a)[i].value_exact<std::string>();
                if (!s) wrong_type((*a)[i], "a string", describe(section, label, fmt::format("{}[{}]", key, i)));
                out.push_back(*s);
            }
            return out;
        }
        wrong_type(n, fmt::format("a {}", kKeyTypeValue), what);
    }

    void read_platform(const toml::table& root, PlatformProfile& profile) const {
        const toml::node* node = root.get("platform");
        if (node == nullptr)
            fail(at(root), "missing [platform] table; add one with name and os (see platforms/README.md)");
        const toml::table* t = node->as_table();
        if (t == nullptr) wrong_type(*node, "a table", "platform");
        Expectation unused;
        read_section(*t, "platform", 0, profile, unused);
        if (blank(profile.os))
            fail(at(*t->get("os")), "empty platform.os: give the uname sysname the profile applies to");
        const std::string stem = file_.stem().string();
        if (profile.name != stem)
            fail(at(*t->get("name")),
                 fmt::format("platform.name '{}' does not match the file name '{}'; set name = \"{}\" or "
                             "rename the file",
                             profile.name, file_.filename().string(), stem));
    }

    void read_expectations(const toml::table& root, PlatformProfile& profile) const {
        const toml::node* node = root.get("expect");
        if (node == nullptr) return;
        const toml::array* entries = node->as_array();
        if (entries == nullptr) wrong_type(*node, "an array of tables ([[expect]])", "expect");
        std::map<std::string, int> first_line;
        for (std::size_t i = 0; i < entries->size(); ++i) {
            const toml::node& item = (*entries)[i];
            const std::string label = fmt::format("[[expect]] #{}", i + 1);
            const toml::table* t = item.as_table();
            if (t == nullptr) wrong_type(item, "a table", label);
            Expectation e;
            e.where = at(*t);
            read_section(*t, "expect", i + 1, profile, e);
            const SourceLocation fact_at = at(*t->get("fact"));
            check_fact_id(e.fact, fact_at);
            if (const toml::node* bound = t->get(kBoundKey)) check_bound(e, *bound, label);
            if (blank(e.source))
                fail(at(*t->get("source")),
                     fmt::format("empty source in {}: name the documentation that makes the claim", label));
            // One claim per fact and set of targets: a fact may be claimed again for other targets.
            const auto [seen, fresh] = first_line.emplace(fmt::format("{} on {}", e.fact, fmt::join(e.targets, ",")), e.where.line);
            if (!fresh)
                fail(fact_at, fmt::format("duplicate fact '{}'{} in {}; first expected at line {}", e.fact,
                                          e.targets.empty() ? "" : fmt::format(" for targets {}", fmt::join(e.targets, ", ")), label,
                                          seen->second));
            profile.expectations.push_back(std::move(e));
        }
    }

    // A bound is about a number: a time or a count, never below zero, and only
    // on a fact whose value is a number (a yes/no fact has nothing to bound).
    void check_bound(const Expectation& e, const toml::node& bound, const std::string& label) const {
        const nlohmann::json& limit = e.value[kBoundKey];
        const double v = limit.get<double>();
        if (!std::isfinite(v) || v < 0)
            fail(at(bound), fmt::format("{} of {} must be a finite number, 0 or more; got {}", kBoundKey, label, v));
        const std::vector<std::string> parts = split(e.fact, '.');
        const std::string fact = parts[0] + "." + parts[parts[0] == "process" ? 1 : 2];
        const std::vector<std::string>& numeric = numeric_fact_names();
        if (std::find(numeric.begin(), numeric.end(), fact) != numeric.end()) return;
        std::vector<std::string> ids;
        for (const std::string& n : numeric) {
            const std::size_t dot = n.find('.');
            ids.push_back(n.substr(0, dot) + ".<primitive>" + n.substr(dot));
        }
        fail(at(bound), fmt::format("{} of {} bounds a number, but '{}' is not a numeric fact; claim it with value, "
                                    "or bound a numeric fact: {}",
                                    kBoundKey, label, e.fact, fmt::join(ids, ", ")));
    }

    void check_fact_id(const std::string& id, const SourceLocation& where) const {
        static const std::vector<std::string> subjects{"locks", "segments", "process", "clients"};
        std::vector<std::string> parts = split(id, '.');
        // clients.locks.<primitive>.<client lock fact>: the locks grammar with the client facts.
        const bool clients = parts[0] == "clients";
        if (clients) {
            if (parts.size() < 2 || parts[1] != "locks")
                fail(where, fmt::format("malformed fact id '{}': expected clients.locks.<primitive>.<client lock fact>", id));
            parts.erase(parts.begin());
        }
        const std::string& subject = parts[0];
        if (std::find(subjects.begin(), subjects.end(), subject) == subjects.end())
            fail(where, fmt::format("unknown subject '{}' in fact id '{}'{}", subject, id,
                                    suggestion(subject, subjects)));
        const bool locks = subject == "locks";
        const bool process = subject == "process";
        const std::string_view grammar = clients   ? "clients.locks.<primitive>.<client lock fact>"
                                         : locks   ? "locks.<primitive>.<lock fact>"
                                         : process ? "process.<process fact>"
                                                   : "segments.<primitive>.<segment fact>";
        const std::string_view kind = clients ? "client lock" : locks ? "lock" : process ? "process" : "segment";
        const std::size_t fact_at = process ? 1 : 2;
        const auto malformed = [&](std::string_view expected) {
            fail(where, fmt::format("malformed fact id '{}': expected {}", id, expected));
        };
        if (parts.size() <= fact_at) malformed(grammar);
        const std::string& fact = parts[fact_at];
        const std::vector<std::string>& names =
            clients ? client_lock_fact_names() : locks ? lock_fact_names() : process ? process_fact_names() : segment_fact_names();
        if (std::find(names.begin(), names.end(), fact) == names.end())
            fail(where, fmt::format("unknown {} fact '{}' in fact id '{}'{}", kind, fact, id, suggestion(fact, names)));
        const bool pair = locks && fact == "conflicts_with";
        if (parts.size() != fact_at + (pair ? 2 : 1))
            malformed(pair ? (clients ? "clients.locks.<primitive>.conflicts_with.<primitive>" : "locks.<primitive>.conflicts_with.<primitive>")
                           : grammar);
        std::vector<std::string> primitives;
        if (!process) primitives.push_back(parts[1]);
        if (pair) primitives.push_back(parts[3]);
        for (const auto& p : primitives)
            if (!valid_primitive(p))
                fail(where, fmt::format("bad primitive name '{}' in fact id '{}': use lowercase letters, digits "
                                        "and '-', or '*' for any primitive",
                                        p, id));
    }

    fs::path file_;
};

std::vector<fs::path> toml_files(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".toml" && entry.is_regular_file(ec)) out.push_back(entry.path());
    std::sort(out.begin(), out.end());  // directory order is arbitrary; first match must be stable
    return out;
}

bool matches(const std::vector<std::string>& pattern, const std::string& id) {
    const std::vector<std::string> parts = split(id, '.');
    if (parts.size() != pattern.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i)
        if (pattern[i] != "*" && pattern[i] != parts[i]) return false;
    return true;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

}  // namespace

const std::vector<ProfileKey>& profile_keys() {
    static const std::vector<ProfileKey> keys = [] {
        std::vector<ProfileKey> out;
        for (const auto& b : key_bindings()) out.push_back(b.key);
        return out;
    }();
    return keys;
}

std::string required_text(const ProfileKey& key) {
    if (key.need == KeyNeed::required) return "yes";
    if (key.need == KeyNeed::optional) return "no";
    std::vector<std::string_view> claims;
    for (const auto& b : key_bindings())
        if (b.key.section == key.section && b.key.need == KeyNeed::one_claim) claims.push_back(b.key.name);
    return fmt::format("one of {}", fmt::join(claims, ", "));
}

PlatformProfile load_profile(const fs::path& file) { return Loader(file).load(); }

std::vector<fs::path> profile_dirs() {
    std::vector<fs::path> dirs;
    const auto add = [&dirs](const fs::path& dir) {
        std::error_code ec;
        if (dir.empty() || !fs::is_directory(dir, ec)) return;
        for (const auto& seen : dirs)
            if (fs::equivalent(seen, dir, ec)) return;
        dirs.push_back(dir.lexically_normal());
    };
    if (const char* env = std::getenv("ILK_PLATFORM_PATH"))
        for (const auto& part : split(env, ':')) add(part);
#ifdef ILK_PLATFORM_SUBDIR
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) add(exe.parent_path() / ".." / ILK_PLATFORM_SUBDIR);
#endif
#ifdef ILK_SOURCE_PLATFORM_DIR
    add(ILK_SOURCE_PLATFORM_DIR);
#endif
    return dirs;
}

PlatformProfile find_profile(std::string_view name, const std::vector<fs::path>& dirs) {
    const std::string file = std::string(name) + ".toml";
    std::error_code ec;
    for (const auto& dir : dirs)
        if (fs::is_regular_file(dir / file, ec)) return load_profile(dir / file);
    std::vector<std::string> searched;
    std::set<std::string> stems;  // sorted and unique: a shadowed profile is listed once
    for (const auto& dir : dirs) {
        searched.push_back(dir.string());
        for (const auto& f : toml_files(dir)) stems.insert(f.stem().string());
    }
    const std::vector<std::string> existing(stems.begin(), stems.end());
    const std::string hint = closest_match(name, existing);
    const std::string where =
        searched.empty() ? "(no profile directory exists)" : fmt::format("{}", fmt::join(searched, ", "));
    const std::string available = existing.empty() ? "none" : fmt::format("{}", fmt::join(existing, ", "));
    throw ProfileError({file, 0, 0}, fmt::format("no platform profile '{}' in {}; available: {}{}; add {} to a "
                                                 "directory in ILK_PLATFORM_PATH",
                                                 name, where, available,
                                                 hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                                                 file));
}

PlatformProfile profile_for_os(std::string_view sysname, const std::vector<fs::path>& dirs) {
    for (const auto& dir : dirs)
        for (const auto& file : toml_files(dir)) {
            PlatformProfile p = load_profile(file);
            if (p.os == sysname) return p;
        }
    return {};
}

namespace {

// Values compare as JSON (1 is not true); a bound holds for any number up to it.
bool keeps_promise(const nlohmann::json& observed, const nlohmann::json& expected) {
    if (!is_bound(expected)) return observed == expected;
    return observed.is_number() && observed.get<double>() <= expected[kBoundKey].get<double>();
}

}  // namespace

std::vector<Comparison> compare(const PlatformProfile& profile, const FactSet& facts, const std::string& target) {
    std::vector<Comparison> out;
    const auto for_target = [&](const Expectation& e) {
        return std::find(e.targets.begin(), e.targets.end(), target) != e.targets.end();
    };
    // A claim written for this target replaces, for the facts it matches, the
    // claims written for every target (NFS's flock against local flock).
    std::set<std::string> claimed_here;
    for (const Expectation& e : profile.expectations)
        if (for_target(e))
            for (const auto& [id, fact] : facts)
                if (matches(split(e.fact, '.'), id)) claimed_here.insert(id);
    for (const Expectation& e : profile.expectations) {
        if (!e.targets.empty() && !for_target(e)) continue;
        const std::vector<std::string> pattern = split(e.fact, '.');
        bool found = false;
        for (const auto& [id, fact] : facts) {
            if (!matches(pattern, id)) continue;
            if (e.targets.empty() && claimed_here.count(id)) {
                found = true;  // compared under the target's own claim
                continue;
            }
            found = true;
            Comparison c{e, id, Outcome::unmeasured, nullptr, {}};
            if (!fact.measured) {
                c.reason = fact.reason;
            } else {
                c.observed = fact.value;
                const bool promised = keeps_promise(fact.value, e.value);
                const bool known = !e.known_deviation.empty();
                c.outcome = promised ? (known ? Outcome::unexpectedly_conforms : Outcome::match)
                                     : (known ? Outcome::known_deviation : Outcome::deviation);
            }
            out.push_back(std::move(c));
        }
        if (!found) out.push_back(Comparison{e, e.fact, Outcome::absent, nullptr, {}});
    }
    return out;
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    std::string best;
    std::size_t best_distance = limit + 1;
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

}  // namespace ilk
