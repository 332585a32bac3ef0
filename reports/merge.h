// `ilk merge`: matrix reports from several hosts, kernels and filesystems
// into one, hiding nothing. Every target result is kept with the file it came
// from, even two for the same platform and target: columns() shows them in
// one column, and a disagreement as a conflict.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "matrix.h"

namespace ilk {

// `inputs`: (file it was read from, report), in the order given. Targets are
// kept in order with `source` set to their file (an existing source, from a
// report that was itself a merge, is kept); strategies, scenarios and platforms
// not run are unioned in first-seen order, minus the platforms that have
// results; merged_from lists the input files, those of merged inputs
// flattened; schedule and profile are the common one or "mixed: a; b";
// elapsed times add up; interrupted if any was. The host is the first input's:
// the caller sets the merging host. Linear in the size of the inputs.
// Taken by value: pass std::move(inputs) to merge without copying the targets.
MatrixReport merge_reports(std::vector<std::pair<std::string, MatrixReport>> inputs);

// A matrix report file (ilk run --format json). Throws std::runtime_error
// naming the file: "<path>: cannot read: <strerror>", "<path>: not JSON:
// <parser message with line and column>", "<path>: <what matrix_from_json found>".
MatrixReport read_matrix_file(const std::string& path);

}  // namespace ilk
