#include "writers.h"

#include <algorithm>

namespace ilk {

// Compact: the file is for programs (ilk merge reads 50 of them in well under a
// second); people read report.md or report.html, or pipe this through jq.
std::string matrix_json(const MatrixReport& r, const WriteOptions&) {
    return to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";  // outside words may hold any bytes
}

const std::vector<MatrixWriter>& matrix_writers() {
    static const std::vector<MatrixWriter> writers{
        {"text", "", "the matrix on a terminal (coloured, 100 columns), findings and time per target", matrix_text},
        {"json", "report.json", "every cell, scenario, probe fact and counterexample path (reports/matrix-report.md)", matrix_json},
        {"markdown", "report.md", "the matrix and the findings, ready to paste into a wiki", matrix_markdown},
        {"junit", "junit.xml", "one test case per strategy x target x scenario (UNSAFE/STUCK fail, UNSUPPORTED skipped)", matrix_junit},
        {"html", "report.html", "one self-contained page: the matrix, each cell's scenarios and evidence, probe facts", matrix_html},
    };
    return writers;
}

const MatrixWriter* find_writer(std::string_view format) {
    const auto& w = matrix_writers();
    const auto it = std::find_if(w.begin(), w.end(), [&](const MatrixWriter& m) { return m.format == format; });
    return it == w.end() ? nullptr : &*it;
}

std::vector<std::string> matrix_format_names() {
    std::vector<std::string> names;
    for (const MatrixWriter& w : matrix_writers()) names.emplace_back(w.format);
    return names;
}

std::vector<std::string> matrix_file_names() {
    std::vector<std::string> files;
    for (const MatrixWriter& w : matrix_writers())
        if (!w.file.empty()) files.emplace_back(w.file);
    return files;
}

}  // namespace ilk
