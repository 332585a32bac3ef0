// Report writers for `ilk probe`: one function per format, all reading the
// same ProbeReport. The JSON layout is documented in reports/probe-report.md.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "probe.h"

namespace ilk {

// Bump when a field changes meaning or disappears; adding fields keeps it.
inline constexpr int kProbeSchemaVersion = 1;

nlohmann::json probe_report_json(const ProbeReport& report);

struct TextOptions {
    bool color = false;
    bool verbose = false;  // also print the evidence of every fact
};
std::string probe_report_text(const ProbeReport& report, const TextOptions& options);

}  // namespace ilk
