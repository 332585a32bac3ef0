// The probe's deviations from the platform profile, per target, as the
// terminal matrix and report.md list them: where a porter looks first, not
// only in report.json and report.html. Read from each target's typed probe
// (model/probe_report.h), which may come from another host through `ilk
// merge`: its reader has already turned anything oddly typed into absent.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "matrix.h"
#include "probe_report.h"  // expected_text

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

// Every target whose probe was compared with a profile, in report order, with
// its deviations and unexpected conformances (the outcomes that fail
// `ilk probe --fail-on-deviation`).
inline std::vector<TargetDeviations> profile_deviations(const MatrixReport& r) {
    std::vector<TargetDeviations> out;
    for (const TargetResult& t : r.targets) {
        if (!t.probe || !t.probe->compared()) continue;
        TargetDeviations td{&t, t.probe->profile, {}, 0};
        for (const Comparison& c : t.probe->comparisons) {
            td.known += c.outcome == Outcome::known_deviation;
            if (!is_deviation(c.outcome)) continue;
            td.deviations.push_back({c.fact_id, expected_text(c.expectation.value),
                                     c.observed.is_null() ? "not measured" : c.observed.dump(), c.expectation.source,
                                     to_string(c.expectation.where), c.outcome == Outcome::unexpectedly_conforms,
                                     c.expectation.known_deviation});
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
