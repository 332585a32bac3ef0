// Placeholder until the html writer lands.
#include "writers.h"

namespace ilk {
std::string matrix_html(const MatrixReport&, const WriteOptions&) { return "html writer not built yet\n"; }
}  // namespace ilk
