// Platform profiles: what a platform's documentation promises (platforms/*.toml),
// and the comparison of those expectations with measured facts.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fact.h"

namespace ilk {

struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
};

// One documented claim: fact id (a '*' component matches any one component,
// e.g. "locks.*.excludes_other_process"), the promised value and where it is written.
// A claim is a value to equal, or for a numeric fact a bound: the profile's
// `at_most = 100` is held as {"at_most": 100}, the shape reports show as
// "expected" (a fact's value is never an object, so the two cannot be confused).
inline constexpr const char* kBoundKey = "at_most";

struct Expectation {
    std::string fact;
    nlohmann::json value;         // bool, integer, string or array of strings; or {"at_most": number}
    std::string source;           // the documentation that makes the claim (required)
    std::string note;             // optional explanation
    std::string known_deviation;  // non-empty: the platform is known to differ from the claim, and why
    SourceLocation where;
};

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

enum class Outcome {
    match,                  // observed == promised
    deviation,              // observed != promised: reported with the claim's source
    known_deviation,        // observed != promised, and the profile says so (lit XFAIL)
    unexpectedly_conforms,  // a known deviation did not happen (lit XPASS): reported
    unmeasured,             // the fact exists but could not be measured here (reason)
    absent,                 // no measured fact matches (primitive not loaded here)
};
std::string_view to_string(Outcome o);

struct Comparison {
    Expectation expectation;
    std::string fact_id;      // the concrete fact (wildcards expanded); = pattern when absent
    Outcome outcome;
    nlohmann::json observed;  // null unless measured
    std::string reason;       // for unmeasured: why
};

std::vector<Comparison> compare(const PlatformProfile& profile, const FactSet& facts);

// An expected value as reports give it to people: "at most 100" for a bound,
// the JSON of the value otherwise ("true", "\"EPERM\"", "[\"a\"]").
std::string expected_text(const nlohmann::json& expected);

// Did-you-mean helper shared with the CLI: the closest candidate within a small
// edit distance, or empty.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ilk
