// Placeholder until the markdown writer lands.
#include "writers.h"

namespace ilk {
std::string matrix_markdown(const MatrixReport&, const WriteOptions&) { return "markdown writer not built yet\n"; }
}  // namespace ilk
