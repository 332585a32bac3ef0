#include "toml_entries.h"

#include <algorithm>
#include <cstdlib>
#include <system_error>

namespace ilk::toml_entries {

void for_each_entry(const std::vector<std::filesystem::path>& dirs, std::string_view entry, std::string_view what,
                    const std::function<void(const std::string& file, const toml::table& t, int index)>& fn) {
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
                if (k.str() == entry) continue;
                if (!v.is_table() && !v.is_array_of_tables())
                    fail(file, k.source(),
                         fmt::format("key '{}' is outside any [[{}]] entry; move it below a [[{}]] line", k.str(), entry, entry));
                const std::string guess = closest_match(k.str(), {std::string(entry)});
                fail(file, k.source(),
                     fmt::format("unknown table '{}'{}; {} hold only [[{}]] entries", k.str(),
                                 guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", entry), what, entry));
            }
            const toml::node* node = doc.get(entry);
            if (node == nullptr) continue;
            // [entry] or entry = ... would otherwise drop every entry in the file without a word.
            const toml::array* list = node->as_array();
            if (!list)
                fail(file, node->source(),
                     fmt::format("'{}' is a {}; write each {} as a [[{}]] entry (two brackets)", entry, type_name(*node), entry, entry));
            int index = 0;
            for (const auto& e : *list) {
                ++index;
                const toml::table* t = e.as_table();
                if (!t)
                    fail(file, e.source(),
                         fmt::format("[[{}]] entries must be tables, got {}; write each as a [[{}]] section of keys", entry, type_name(e), entry));
                fn(file, *t, index);
            }
        }
    }
}

std::vector<std::filesystem::path> search_dirs(const char* env_var, const std::filesystem::path& installed_subdir,
                                               const std::filesystem::path& source_dir) {
    std::vector<std::filesystem::path> dirs;
    if (const char* env = std::getenv(env_var); env && *env) {
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
    for (const std::filesystem::path& d : {exe.parent_path().parent_path() / installed_subdir, source_dir})
        if (std::filesystem::is_directory(d, ec)) {
            dirs.push_back(d);
            break;
        }
    return dirs;
}

}  // namespace ilk::toml_entries
