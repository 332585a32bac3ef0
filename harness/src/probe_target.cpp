#include "probe_target.h"

#include "hostinfo.h"

namespace ilk {

ProbeReport probe_target(const Registry& registry, const Journal& journal, const PreparedTarget& target,
                         const std::filesystem::path& workdir, const std::vector<std::string>& primitives,
                         const PlatformProfile& profile) {
    ProbeReport report;
    if (target.unsupported.empty())
        report = run_probe(registry, journal, {workdir, primitives, target.segments_only, target.lower_dir});
    else
        report.host = host_info();
    if (!profile.name.empty()) {
        report.profile = profile.name;
        report.profile_file = profile.file;
        report.comparisons = compare(profile, report.facts, target.name);
    }
    return report;
}

}  // namespace ilk
