// The result model of `ilk probe`: each primitive's status, the measured facts
// and their comparison with a platform profile. Plain data: the harness fills
// it (probe.h, profile.h), `ilk run` keeps one per target (matrix.h), and every
// writer reads it. Its JSON layout is documented in reports/probe-report.md
// (schema version kProbeSchemaVersion); reading it back never throws.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fact.h"

namespace ilk {

// Bump when a field changes meaning or disappears; adding fields keeps it.
inline constexpr int kProbeSchemaVersion = 1;

struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
};

// "file:line:col", as reports show a claim's place; empty for no place at all
// (a claim read back without one).
std::string to_string(const SourceLocation& where);

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
    std::vector<std::string> targets;  // non-empty: the claim is written for these targets only
};

// True for a bound ({"at_most": n}) rather than a value to equal.
bool is_bound(const nlohmann::json& expected);

// An expected value as reports give it to people: "at most 100" for a bound,
// the JSON of the value otherwise ("true", "\"EPERM\"", "[\"a\"]"). Bad UTF-8
// (claims read back from reports people edit) is replaced, never thrown.
std::string expected_text(const nlohmann::json& expected);

enum class Outcome {
    match,                  // observed == promised
    deviation,              // observed != promised: reported with the claim's source
    known_deviation,        // observed != promised, and the profile says so (lit XFAIL)
    unexpectedly_conforms,  // a known deviation did not happen (lit XPASS): reported
    unmeasured,             // the fact exists but could not be measured here (reason)
    absent,                 // no measured fact matches (primitive not loaded here)
};
std::string_view to_string(Outcome o);
// The outcome named `name`; nullopt for anything else.
std::optional<Outcome> outcome_from_string(std::string_view name);
// The outcomes that break the profile's claims: they fail `ilk probe --fail-on-deviation`.
bool is_deviation(Outcome o);

struct Comparison {
    Expectation expectation;
    std::string fact_id;      // the concrete fact (wildcards expanded); = pattern when absent
    Outcome outcome;
    nlohmann::json observed;  // null unless measured
    std::string reason;       // for unmeasured: why
};

struct PrimitiveStatus {
    std::string name, plugin, kind;
    bool supported = false;
    bool tried = false;  // false: prepare() could not set up (not root, no mount), so support was never tried (not in the JSON)
    std::string reason;  // why not, when unsupported
};

// A plugin library the registry could not load.
struct PluginLoadFailure {
    std::filesystem::path library;
    std::string cause;  // names what is wrong and the likely fix
};

struct ProbeReport {
    nlohmann::json host;    // hostinfo.h
    nlohmann::json target;  // path, fstype, mount options
    std::vector<PrimitiveStatus> primitives;
    std::vector<PluginLoadFailure> load_failures;
    FactSet facts;
    std::string profile;  // name of the profile compared against, empty if none
    std::filesystem::path profile_file;
    std::vector<Comparison> comparisons;
    std::vector<std::string> cleaned;  // leftovers of earlier runs removed first
    double elapsed_ms = 0;
    bool interrupted = false;

    // Compared with a profile. A report read back may hold comparisons under a
    // profile whose name was lost: they still count.
    bool compared() const { return !profile.empty() || !comparisons.empty(); }
};

// The `ilk probe` JSON (reports/probe-report.md).
nlohmann::json to_json(const ProbeReport& r);

// A probe report read back, e.g. from another host's report through `ilk
// merge`, which may hold anything: never throws. Nothing usable (not an
// object) is nullopt; within it, a part of the wrong type is read as absent
// (its default): a fact that is not an object keeps its id with every part
// absent; a comparison with no known outcome, and a primitive or load failure
// that is not an object, are left out. For every report to_json writes,
// to_json(*probe_from_json(j)) == j.
std::optional<ProbeReport> probe_from_json(const nlohmann::json& j);
// The same, taking the document apart instead of copying its large parts.
std::optional<ProbeReport> probe_from_json(nlohmann::json&& j);

}  // namespace ilk
