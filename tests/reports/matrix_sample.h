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

}  // namespace ilk::testing
