// Files of [[entry]] tables read through one key table: strategy files
// ([[strategy]], engine/strategy_keys.h) and server files ([[server]],
// engine/real_server.h). A key table names each key, the field it lands in
// (whose type is the key's TOML type), its range, whether it is required and
// its one line of help; the loader, the errors' hints and the READMEs' tables
// all come from it. Every error is "file:line:col: what, and the fix".
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "profile.h"

namespace ilk::toml_entries {

// Where a key's value lands; the alternative held is also the key's TOML type.
template <class Spec>
using Field = std::variant<std::string Spec::*, bool Spec::*, int Spec::*, std::vector<std::string> Spec::*>;

[[noreturn]] inline void fail(const std::string& file, const toml::source_region& at, const std::string& msg) {
    throw std::runtime_error(fmt::format("{}:{}:{}: {}", file, at.begin.line, at.begin.column, msg));
}

inline std::string_view type_name(const toml::node& n) {
    // Indexed by toml::node_type: none, table, array, string, integer, floating_point, boolean, date, time, date_time.
    static constexpr std::string_view names[] = {"nothing", "table", "array", "string", "integer",
                                                 "float",   "boolean", "date", "time",  "date-time"};
    static_assert(static_cast<std::size_t>(toml::node_type::date_time) == std::size(names) - 1);
    return names[static_cast<std::size_t>(n.type())];
}

// The key's type as a README's "type" column writes it: "string", "boolean", "integer 0-16".
template <class Key>
std::string key_type(const Key& key) {
    using Spec = typename Key::Spec;
    if (std::holds_alternative<std::string Spec::*>(key.field)) return "string";
    if (std::holds_alternative<bool Spec::*>(key.field)) return "boolean";
    if (std::holds_alternative<std::vector<std::string> Spec::*>(key.field)) return "array of strings";
    return "integer " + std::to_string(key.min) + "-" + std::to_string(key.max);
}

// How to write the key, for "add ..." hints: lock = "...".
template <class Key>
std::string example(const Key& key) {
    using Spec = typename Key::Spec;
    if (std::holds_alternative<bool Spec::*>(key.field)) return fmt::format("{} = true", key.name);
    if (std::holds_alternative<int Spec::*>(key.field)) return fmt::format("{} = {}", key.name, key.min);
    if (std::holds_alternative<std::vector<std::string> Spec::*>(key.field)) return fmt::format("{} = [\"...\"]", key.name);
    return fmt::format("{} = \"...\"", key.name);
}

// An absent or empty value (string or array).
template <class Key>
bool missing(const typename Key::Spec& s, const Key& key) {
    using Spec = typename Key::Spec;
    if (const auto* f = std::get_if<std::string Spec::*>(&key.field)) return (s.**f).empty();
    if (const auto* f = std::get_if<std::vector<std::string> Spec::*>(&key.field)) return (s.**f).empty();
    return false;
}

// One reader per field type; each points at the value and says what it wanted.
template <class Key>
struct Reader {
    using Spec = typename Key::Spec;
    const std::string& file;
    const toml::node& n;
    const Key& key;
    const std::string& label;

    [[noreturn]] void wrong(std::string_view expected, std::string_view got) const {
        fail(file, n.source(), fmt::format("expected {} for '{}' in {}, got {}", expected, key.name, label, got));
    }
    void operator()(std::string Spec::*field, Spec& s) const {
        const auto v = n.value_exact<std::string>();
        if (!v) wrong("a string (in quotes)", type_name(n));
        s.*field = *v;
    }
    void operator()(bool Spec::*field, Spec& s) const {
        const auto v = n.value_exact<bool>();
        if (!v) wrong("true or false", type_name(n));
        s.*field = *v;
    }
    void operator()(std::vector<std::string> Spec::*field, Spec& s) const {
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
    void operator()(int Spec::*field, Spec& s) const {
        const auto v = n.value_exact<int64_t>();
        const std::string expected = fmt::format("an integer from {} to {}", key.min, key.max);
        if (!v) wrong(expected, type_name(n));
        if (*v < key.min || *v > key.max) wrong(expected, std::to_string(*v));
        s.*field = static_cast<int>(*v);
    }
};

// Every key of table t into s: an unknown key is refused (with the closest
// known one), a required one that is absent too (with how to add it).
template <class Key, std::size_t N>
void read_keys(const std::string& file, const toml::table& t, const std::string& label, const Key (&keys)[N],
               typename Key::Spec& s) {
    std::vector<std::string> known;
    for (const Key& key : keys) known.emplace_back(key.name);
    for (const auto& [k, v] : t) {
        if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
        const std::string guess = closest_match(k.str(), known);
        fail(file, k.source(),
             fmt::format("unknown key '{}' in {}{}", k.str(), label,
                         guess.empty() ? fmt::format("; keys: {}", fmt::join(known, ", ")) : fmt::format("; did you mean '{}'?", guess)));
    }
    for (const Key& key : keys) {
        const toml::node* n = t.get(key.name);
        if (n == nullptr) {
            if (key.required)
                fail(file, t.source(), fmt::format("missing required key '{}' in {}; add {}  # {}", key.name, label, example(key), key.help));
            continue;
        }
        std::visit([&](auto field) { Reader<Key>{file, *n, key, label}(field, s); }, key.field);
    }
}

// Every [[entry]] table of the *.toml files in dirs (each directory's files
// in name order): fn(file, table, index within its file, from 1). A file may
// hold nothing else; "what" names such files in errors ("strategy files").
void for_each_entry(const std::vector<std::filesystem::path>& dirs, std::string_view entry, std::string_view what,
                    const std::function<void(const std::string& file, const toml::table& t, int index)>& fn);

// Names are unique across files: `first` holds each name's file:line; a
// second definition of `name` fails at `at` ("strategy 'x' is defined twice
// (first at f:3); rename one").
inline void check_unique(std::map<std::string, std::string>& first, std::string_view what, const std::string& name, const std::string& where,
                         const std::string& file, const toml::node& at) {
    const auto [it, fresh] = first.emplace(name, where);
    if (!fresh) fail(file, at.source(), fmt::format("{} '{}' is defined twice (first at {}); rename one", what, name, it->second));
}

// The directories a kind of file is read from: $ENV_VAR (colon-separated)
// when set, else the installed share directory next to the binary, else the
// source tree's.
std::vector<std::filesystem::path> search_dirs(const char* env_var, const std::filesystem::path& installed_subdir,
                                               const std::filesystem::path& source_dir);

}  // namespace ilk::toml_entries
