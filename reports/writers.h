// Matrix report writers: one per format, one interface, all reading the same
// MatrixReport (matrix.h). `ilk run` writes every file format into its report
// directory; `ilk merge` writes the ones asked for.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "matrix.h"

namespace ilk {

struct WriteOptions {
    bool color = false;  // terminal: ANSI colours
    int width = 100;     // terminal: columns to fit in
    std::string report_dir;  // terminal: counterexample paths (relative to the report directory) are shown under it
};

using MatrixWriteFn = std::string (*)(const MatrixReport&, const WriteOptions&);

struct MatrixWriter {
    std::string_view format;        // "text", "json", "markdown", "junit", "html"
    std::string_view file;          // its file in a report directory ("" for the terminal one)
    std::string_view summary;
    MatrixWriteFn write;
};

// Every writer, terminal first.
const std::vector<MatrixWriter>& matrix_writers();
const MatrixWriter* find_writer(std::string_view format);
// The table's formats ("text", "json", ...) and the report directory's files
// ("report.json", ...), in its order: what the command line offers and names.
std::vector<std::string> matrix_format_names();
std::vector<std::string> matrix_file_names();

// The writers, one file each.
std::string matrix_text(const MatrixReport& r, const WriteOptions& o);      // matrix_text.cpp
std::string matrix_json(const MatrixReport& r, const WriteOptions& o);      // matrix.cpp's to_json, indented
std::string matrix_markdown(const MatrixReport& r, const WriteOptions& o);  // matrix_markdown.cpp
std::string matrix_junit(const MatrixReport& r, const WriteOptions& o);     // matrix_junit.cpp
std::string matrix_html(const MatrixReport& r, const WriteOptions& o);      // matrix_html.cpp

}  // namespace ilk
