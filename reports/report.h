// Report writers for `ilk probe`: one function per format, all reading the
// same ProbeReport (model/probe_report.h). The JSON layout is documented in
// reports/probe-report.md.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "probe_report.h"

namespace ilk {

// The model's own writer: `ilk probe` and each target of a matrix report
// write a probe the same way.
inline nlohmann::json probe_report_json(const ProbeReport& report) { return to_json(report); }

struct TextOptions {
    bool color = false;
    bool verbose = false;  // also print the evidence of every fact
};
std::string probe_report_text(const ProbeReport& report, const TextOptions& options);

}  // namespace ilk
