// A hand-made matrix report for testing the writers: three strategies, a
// tmpfs and an ext4 column, a target that could not be set up, a segments-only
// target, a merged second platform with a conflicting result, probe facts with
// deviations (a value, a bound) and a known one, a target that conforms to the
// profile, and text that needs escaping in every format (< > & " ' ]]>).
#pragma once

#include "matrix.h"

namespace ilk::testing {

// `merged`: add a second report's columns (another kernel, and a conflicting
// result for the same platform and target), as ilk merge would.
MatrixReport sample_matrix(bool merged = false);

// The merged sample with a payload in every string that comes from outside the
// kit (host and kernel names, paths, mount options, profile sources and
// files, strategy and server notes, evidence, server log lines, transcripts,
// report file names): `hostile_payload(where)` each, a script that would set
// the page's title to "EXECUTED <where>" if the browser ran it.
MatrixReport hostile_matrix();
std::string hostile_payload(const std::string& where);

}  // namespace ilk::testing
