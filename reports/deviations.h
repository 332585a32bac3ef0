// The probe's deviations from the platform profile, per target, as the
// terminal matrix and report.md list them: where a porter looks first, not
// only in report.json and report.html. Read from each target's probe JSON
// (probe-report.md), which may come from another host through `ilk merge`:
// anything oddly typed is read as absent, never thrown.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "matrix.h"
#include "profile.h"  // expected_text

namespace ilk {

struct ProfileDeviation {
    std::string fact;      // the concrete fact id
    std::string expected;  // for people: "true", "at most 100"
    std::string observed;  // the measured value as JSON
    std::string source;    // the documentation that makes the claim
    std::string where;     // file:line:col of the claim
    bool stale = false;    // unexpectedly_conforms: the profile expects a deviation that did not happen
    std::string known;     // then: the profile's known_deviation note
};

// One target compared with a profile: what broke the profile's claims.
struct TargetDeviations {
    const TargetResult* target;
    std::string profile;  // the profile's name
    std::vector<ProfileDeviation> deviations;
    int known = 0;  // known deviations: expected by the profile, not listed
};

namespace deviations_detail {

inline const nlohmann::json& member(const nlohmann::json& o, const char* key) {
    static const nlohmann::json none;
    if (!o.is_object()) return none;
    const auto it = o.find(key);
    return it == o.end() ? none : *it;
}

inline std::string text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    return v.is_null() ? std::string() : v.dump();
}

}  // namespace deviations_detail

// Every target whose probe was compared with a profile, in report order, with
// its deviations and unexpected conformances (the outcomes that fail
// `ilk probe --fail-on-deviation`).
inline std::vector<TargetDeviations> profile_deviations(const MatrixReport& r) {
    using deviations_detail::member;
    using deviations_detail::text;
    std::vector<TargetDeviations> out;
    for (const TargetResult& t : r.targets) {
        const nlohmann::json& profile = member(t.probe, "profile");
        const nlohmann::json& comparisons = member(profile, "comparisons");
        if (!comparisons.is_array()) continue;
        TargetDeviations td{&t, text(member(profile, "name")), {}, 0};
        for (const nlohmann::json& c : comparisons) {
            const std::string outcome = text(member(c, "outcome"));
            td.known += outcome == "known_deviation";
            if (outcome != "deviation" && outcome != "unexpectedly_conforms") continue;
            const nlohmann::json& observed = member(c, "observed");
            td.deviations.push_back({text(member(c, "fact")), expected_text(member(c, "expected")),
                                     observed.is_null() ? "not measured" : observed.dump(), text(member(c, "source")),
                                     text(member(c, "where")), outcome == "unexpectedly_conforms",
                                     text(member(c, "known_deviation"))});
        }
        out.push_back(std::move(td));
    }
    return out;
}

// The profiles compared with, in first-seen order: one section each.
inline std::vector<std::string> deviation_profiles(const std::vector<TargetDeviations>& all) {
    std::vector<std::string> names;
    for (const TargetDeviations& td : all)
        if (std::find(names.begin(), names.end(), td.profile) == names.end()) names.push_back(td.profile);
    return names;
}

}  // namespace ilk
