// Platform profiles: what a platform's documentation promises (platforms/*.toml),
// and the comparison of those expectations with measured facts (the claims and
// comparisons themselves are plain data in model/probe_report.h).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fact.h"
#include "probe_report.h"  // Expectation, Comparison, Outcome: the plain data compared and reported

namespace ilk {

struct PlatformProfile {
    std::string name;     // "linux"
    std::string os;       // uname sysname it applies to: "Linux", "FreeBSD", "Darwin", "HP-UX"
    std::string summary;
    std::vector<std::string> targets;  // what its default run covers (kit-made target names on Linux)
    SourceLocation targets_where;      // where `targets` is written, for messages about a name in it
    std::filesystem::path file;
    std::vector<Expectation> expectations;
};

// A malformed profile. what() is "file:line:col: message" (file:0:0 when no position).
class ProfileError : public std::runtime_error {
public:
    ProfileError(const SourceLocation& where, const std::string& message);
    const SourceLocation& where() const noexcept { return where_; }

private:
    SourceLocation where_;
};

// Parse and validate one profile. Unknown keys and unknown fact names are
// errors with a did-you-mean. Throws ProfileError.
PlatformProfile load_profile(const std::filesystem::path& file);

// Directories searched for profiles, in order: ILK_PLATFORM_PATH (colon list),
// <exe>/../share/ilk/platforms, then the source tree's platforms/.
std::vector<std::filesystem::path> profile_dirs();

// The profile named `name` ("linux" -> linux.toml) in dirs. Throws ProfileError
// naming the directories searched and the profiles that exist.
PlatformProfile find_profile(std::string_view name, const std::vector<std::filesystem::path>& dirs);

// The profile whose `os` equals uname's sysname; nullopt-like empty name if none.
PlatformProfile profile_for_os(std::string_view sysname, const std::vector<std::filesystem::path>& dirs);

// A claim written for some targets (its `targets`) is compared only on those,
// and there it replaces the claims written for every target on the facts it
// matches. `target` is the name of the target the facts were measured on.
std::vector<Comparison> compare(const PlatformProfile& profile, const FactSet& facts, const std::string& target = {});

// Did-you-mean helper shared with the CLI: the closest candidate within a small
// edit distance, or empty.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ilk
