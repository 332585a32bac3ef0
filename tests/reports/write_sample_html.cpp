// Writes the HTML report of the merged sample matrix to argv[1], for
// html_render.sh to open in a real browser; with --hostile first, the sample
// with a script in every string from outside (hostile_matrix).
#include <cstdio>
#include <fstream>
#include <string>

#include "matrix_sample.h"
#include "writers.h"

int main(int argc, char** argv) {
    const bool hostile = argc == 3 && std::string(argv[1]) == "--hostile";
    if (argc != 2 && !hostile) {
        std::fprintf(stderr, "usage: %s [--hostile] <output.html>\n", argv[0]);
        return 2;
    }
    std::ofstream out(argv[argc - 1], std::ios::binary);
    out << ilk::matrix_html(hostile ? ilk::testing::hostile_matrix() : ilk::testing::sample_matrix(true), {});
    out.close();
    if (!out) {
        std::fprintf(stderr, "%s: cannot write the HTML report\n", argv[argc - 1]);
        return 1;
    }
    return 0;
}
