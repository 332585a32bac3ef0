// The keys a platform profile may contain. One table in profile.cpp drives the
// loader (accepted, required, typed) and is exposed here so a test can hold
// platforms/README.md to it.
#pragma once

#include <string_view>
#include <vector>

namespace ilk {

struct ProfileKey {
    std::string_view section;  // "platform" for [platform], "expect" for each [[expect]]
    std::string_view name;     // key inside that section
    std::string_view type;     // as written in the README's "type" column
    bool required;
    std::string_view meaning;  // one line, for the README and error hints
};

// Type names used in ProfileKey::type.
inline constexpr std::string_view kKeyTypeString = "string";
inline constexpr std::string_view kKeyTypeValue = "bool, integer, string or array of strings";
inline constexpr std::string_view kKeyTypeStrings = "array of strings";

const std::vector<ProfileKey>& profile_keys();

}  // namespace ilk
