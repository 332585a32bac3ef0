// ilk merge: matrix reports of several hosts, kernels or filesystems joined
// into one matrix.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <utility>

#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "hostinfo.h"
#include "merge.h"
#include "writers.h"

namespace ilk::cli {

CLI::App* add_merge_command(CLI::App& app, MergeArgs& a) {
    CLI::App* merge = app.add_subcommand("merge", "Join matrix reports (ilk run's report.json) of several hosts into one matrix");
    merge->add_option("reports", a.inputs, "Report files (report.json of ilk run, or of an earlier merge)")->required();
    merge->add_option("--format", a.format, "Format on standard output (or --output)")
        ->check(CLI::IsMember(ilk::matrix_format_names()));
    merge->add_option("--output", a.output, "Write that report to FILE instead of standard output");
    merge->add_option("--html", a.html, "Also write the HTML page to FILE");
    merge->add_option("--markdown", a.markdown, "Also write the Markdown report to FILE");
    merge->add_option("--junit", a.junit, "Also write JUnit XML to FILE");
    merge->add_option("--json", a.json, "Also write the merged JSON report to FILE (it can be merged again)");
    merge->add_flag("--no-color", a.no_color, "No colours on a terminal");
    return merge;
}

int cmd_merge(const MergeArgs& a) {
    // Parsing dominates: one reader thread per CPU, each taking every n-th file.
    std::vector<std::pair<std::string, ilk::MatrixReport>> inputs(a.inputs.size());
    std::vector<std::string> errors(a.inputs.size());
    const size_t n = std::max<size_t>(1, std::min<size_t>(std::thread::hardware_concurrency(), a.inputs.size()));
    std::vector<std::thread> readers;
    for (size_t k = 0; k < n; ++k)
        readers.emplace_back([&, k] {
            for (size_t i = k; i < a.inputs.size(); i += n) {
                try {
                    inputs[i] = {a.inputs[i], ilk::read_matrix_file(a.inputs[i])};
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            }
        });
    for (std::thread& t : readers) t.join();
    for (const std::string& e : errors)
        if (!e.empty()) {
            std::cerr << "ilk merge: " << e << "\n";
            return kExitBadInput;
        }
    ilk::MatrixReport merged = ilk::merge_reports(std::move(inputs));
    merged.host = ilk::host_info();
    int rc = kExitOk;
    for (const auto& [format, file] : {std::pair<const char*, const std::string&>{"html", a.html}, {"markdown", a.markdown},
                                       {"junit", a.junit}, {"json", a.json}}) {
        if (file.empty()) continue;
        std::string error;
        if (!write_file(file, ilk::find_writer(format)->write(merged, {}), error)) {
            std::cerr << "ilk merge: " << error << "\n";
            rc = kExitFailed;
        }
    }
    const ilk::WriteOptions wo{!a.no_color && a.output.empty() && isatty(1), 100, ""};
    rc = emit("ilk merge", ilk::find_writer(a.format)->write(merged, wo), a.output, rc);
    // Freeing millions of small JSON nodes one by one takes as long as reading
    // them; the process ends here, so let the kernel drop them at once.
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(rc);
}

}  // namespace ilk::cli
