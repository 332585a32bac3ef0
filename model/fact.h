// The probe's measured facts with their evidence: the vocabulary of `ilk probe`,
// of platform profiles and of every report (model/probe_report.h holds them).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ilk {

// One measured (or unmeasurable) semantic fact, e.g. "locks.fcntl.excludes_other_process".
struct Fact {
    std::string id;
    bool measured = false;       // false: value is null and reason says why it could not be measured
    nlohmann::json value;        // bool, number, string or array of strings
    std::string reason;          // why unmeasured; empty when measured
    nlohmann::json evidence = nlohmann::json::object();  // what was done, what was seen, errnos
    double elapsed_ms = 0;
};

// Facts keyed by id, in id order (stable reports).
using FactSet = std::map<std::string, Fact>;

// The fact names a profile may use, per subject. Ids are
//   locks.<primitive>.<lock fact>       (conflicts_with.<other primitive> too)
//   segments.<primitive>.<segment fact>
//   process.<process fact>
// The probe and the profile loader both use these lists, so they cannot drift.
inline const std::vector<std::string>& lock_fact_names() {
    static const std::vector<std::string> names{
        "supported",
        "excludes_other_process",
        "query_agrees_with_acquire",
        "released_on_holder_kill",
        "handover_ms",  // a number: SIGKILL of the holder to the waiter's grant (unmeasured when the lock never came)
        "released_by_closing_other_fd",
        "shared_with_fork_child",
        "held_while_child_outlives_holder",
        "follows_inode_not_name",
        "excludes_across_copy_up",  // overlayfs targets only: a lower-layer file locked before and after copy-up
        "conflicts_with",  // followed by .<primitive>
    };
    return names;
}

// Lock facts across two clients of one network filesystem (probe_hosts.h):
//   clients.locks.<primitive>.<client lock fact>  (conflicts_with.<other primitive> too)
inline const std::vector<std::string>& client_lock_fact_names() {
    static const std::vector<std::string> names{
        "excludes_other_client",    // A holds it on client A; B on client B is kept out
        "released_on_holder_kill",  // A SIGKILLed (its client lives on): B gets it within 2 s
        "released_on_client_crash", // A's whole client guest SIGKILLed: B gets it within the lab's window
        "conflicts_with",           // followed by .<primitive>: A holds the first, B tries the second
    };
    return names;
}

inline const std::vector<std::string>& segment_fact_names() {
    static const std::vector<std::string> names{
        "supported",
        "attach_count_visible",
        "attach_count_after_creator_kill",
        "attach_after_rmid",
    };
    return names;
}

inline const std::vector<std::string>& process_fact_names() {
    static const std::vector<std::string> names{
        "kill0_reports_zombie_alive",
        "kill0_foreign_uid_errno",
        "pid_reuse_methods",
    };
    return names;
}

// The facts whose value is a number, as "<subject>.<fact>": the only ones a
// profile may bound (at_most), since a bound on a yes/no fact means nothing.
inline const std::vector<std::string>& numeric_fact_names() {
    static const std::vector<std::string> names{
        "locks.handover_ms",
        "segments.attach_count_after_creator_kill",
    };
    return names;
}

}  // namespace ilk
