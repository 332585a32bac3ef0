// Writes the HTML report of the merged sample matrix to argv[1], for
// html_render.sh to open in a real browser.
#include <cstdio>
#include <fstream>

#include "matrix_sample.h"
#include "writers.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <output.html>\n", argv[0]);
        return 2;
    }
    std::ofstream out(argv[1], std::ios::binary);
    out << ilk::matrix_html(ilk::testing::sample_matrix(true), {});
    out.close();
    if (!out) {
        std::fprintf(stderr, "%s: cannot write the HTML report\n", argv[1]);
        return 1;
    }
    return 0;
}
