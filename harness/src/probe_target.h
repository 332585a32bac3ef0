// The probe of one prepared target, compared with a platform profile: what
// `ilk probe` reports for each target and what `ilk run` probes before its
// cells, made in one place so the two always agree.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "journal.h"
#include "probe.h"
#include "profile.h"
#include "registry.h"
#include "target.h"

namespace ilk {

// Probe `target` in `workdir` (its directory, or one made in it) with
// `primitives` (empty = all loaded), then compare the facts with `profile`
// (no comparisons when it has no name). A target that could not be set up is
// not probed: the report has the host only, and every comparison is `absent`.
ProbeReport probe_target(const Registry& registry, const Journal& journal, const PreparedTarget& target,
                         const std::filesystem::path& workdir, const std::vector<std::string>& primitives,
                         const PlatformProfile& profile);

}  // namespace ilk
