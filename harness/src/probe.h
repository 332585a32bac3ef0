// `ilk probe`: measure, with real processes, how each primitive behaves on a
// target directory. Facts come only from acts observed here (fact.h); the
// result is model/probe_report.h.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actor.h"
#include "fact.h"
#include "interrupt.h"
#include "journal.h"
#include "probe_report.h"  // ProbeReport, PrimitiveStatus: the result model
#include "profile.h"
#include "registry.h"

namespace ilk {

// What a probe works with: the registry, the run's journal, the directory it
// works in (a journaled scratch directory on the target) and a fresh file or
// segment key for each fact, so facts never disturb each other.
class Lab {
public:
    Lab(const Registry& registry, const Journal& journal, std::filesystem::path workdir);

    const Registry& registry() const { return registry_; }
    const Journal& journal() const { return journal_; }
    const std::filesystem::path& dir() const { return target_; }
    ProbeContext context() const;

    Actor spawn() const { return Actor::spawn(registry_, journal_); }
    // A file of an overlay's lower layer not yet used (so not yet copied up),
    // seen through the overlay; empty when the target has no lower layer.
    std::string fresh_lower_file();
    void set_lower_dir(std::filesystem::path dir) { lower_dir_ = std::move(dir); }
    std::string fresh_file(const std::string& stem);  // a path in the scratch dir, not yet created
    // A segment key not yet used by this run, journaled for `creator` before use.
    std::int64_t fresh_key(const std::string& primitive, pid_t creator);

private:
    const Registry& registry_;
    const Journal& journal_;
    std::filesystem::path target_;
    std::string scratch_str_, target_str_;
    int counter_ = 0;
    std::filesystem::path lower_dir_;
    int lower_used_ = 0;
};

// Build facts: a measured one, or one that says why it could not be measured.
Fact measured_fact(std::string id, nlohmann::json value, nlohmann::json evidence = nlohmann::json::object());
Fact unmeasured_fact(std::string id, std::string reason, nlohmann::json evidence = nlohmann::json::object());
// Run fn and stamp the fact with the time it took; an exception becomes an unmeasured fact.
Fact timed(const std::string& id, const std::function<Fact()>& fn);

std::string errno_name(int err);  // "EPERM", or the number

void probe_locks(Lab& lab, const std::vector<const Primitive*>& locks, FactSet& out);
void probe_segments(Lab& lab, const std::vector<const Primitive*>& segments, FactSet& out);
void probe_process(Lab& lab, FactSet& out);

struct ProbeOptions {
    std::filesystem::path workdir;         // a scratch directory on the target, made by the caller (journaled)
    std::vector<std::string> primitives;   // empty = all loaded
    bool segments_only = false;            // a target that holds segments only (hugetlbfs)
    std::filesystem::path lower_dir = {};  // overlayfs: lower-layer files (copyup-1 ...), seen through the overlay
};

// Prepare and check one primitive, each plugin hook in a sandboxed child.
PrimitiveStatus check_primitive(const Lab& lab, const Primitive& p);

// Prepare and check every primitive (sandboxed), then measure all facts.
ProbeReport run_probe(const Registry& registry, const Journal& journal, const ProbeOptions& options);

}  // namespace ilk
