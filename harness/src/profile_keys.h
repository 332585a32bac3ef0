// The keys a platform profile may contain. One table in profile.cpp drives the
// loader (accepted, required, typed) and is exposed here so a test can hold
// platforms/README.md to it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ilk {

// Whether a key must be given. The claim keys of an [[expect]] (value, at_most)
// say what is promised in different shapes: each entry gives exactly one.
enum class KeyNeed { optional, required, one_claim };

struct ProfileKey {
    std::string_view section;  // "platform" for [platform], "expect" for each [[expect]]
    std::string_view name;     // key inside that section
    std::string_view type;     // as written in the README's "type" column
    KeyNeed need;
    std::string_view meaning;  // one line, for the README and error hints
};

// Type names used in ProfileKey::type.
inline constexpr std::string_view kKeyTypeString = "string";
inline constexpr std::string_view kKeyTypeValue = "bool, integer, string or array of strings";
inline constexpr std::string_view kKeyTypeStrings = "array of strings";
inline constexpr std::string_view kKeyTypeNumber = "number";  // integer or float

// The README's "required" column for a key: "yes", "no", or for a claim key
// "one of value, at_most" (every claim key of its section).
std::string required_text(const ProfileKey& key);

const std::vector<ProfileKey>& profile_keys();

}  // namespace ilk
