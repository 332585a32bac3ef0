// report.json, as ilk merge reads it from anywhere: ilk::read_matrix_file,
// then what merge and the writers do with it. Contract: a file that is no
// report is refused with std::runtime_error "FILE: ..."; one that is read
// renders in every format, advice included, and merges with itself, without
// anything thrown.
#include "advice.h"
#include "fuzz.h"
#include "merge.h"
#include "writers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string file = ilk::fuzz::put("report.json", data, size);
    ilk::MatrixReport r;
    try {
        r = ilk::read_matrix_file(file);
    } catch (const std::runtime_error& e) {
        ilk::fuzz::expect_located(e, file, false);
        return 0;
    }
    ilk::MatrixReport merged;
    try {
        merged = ilk::merge_reports({{file, r}, {file + ".again", r}});
    } catch (const std::runtime_error&) {
        merged = r;  // two reports can disagree in ways merge refuses, with its reason
    }
    ilk::WriteOptions o;
    o.width = 80;
    for (const ilk::MatrixWriter& w : ilk::matrix_writers()) (void)w.write(r, o);
    (void)ilk::matrix_json(merged, o);
    const std::vector<std::string> order = ilk::strategy_names(r);
    for (const ilk::TargetResult& t : r.targets) (void)ilk::advice_text(t, ilk::advise(t, order), false);
    return 0;
}
