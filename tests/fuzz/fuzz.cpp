#include "fuzz.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <system_error>

namespace ilk::fuzz {

namespace {
std::filesystem::path g_scratch;
void remove_scratch() {
    std::error_code ec;
    if (!g_scratch.empty()) std::filesystem::remove_all(g_scratch, ec);
}
}  // namespace

const std::filesystem::path& scratch() {
    if (g_scratch.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ilk-fuzz-XXXXXX";
        if (!mkdtemp(pattern.data())) broken("cannot make a scratch directory", pattern);
        g_scratch = pattern;
        std::atexit(remove_scratch);
    }
    return g_scratch;
}

std::string put(const std::filesystem::path& relative, const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path p = scratch() / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) broken("cannot write the input", p.string());
    return p.string();
}

void broken(std::string_view why, std::string_view detail) {
    std::fprintf(stderr, "fuzz: contract broken: %.*s\n%.*s\n", static_cast<int>(why.size()), why.data(),
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
}

void expect_located(const std::exception& e, const std::string& file, bool with_place) {
    const std::string what = e.what();
    if (what.rfind(file + ":", 0) != 0) broken("the error does not begin with the file's name", what);
    static const std::regex place(R"(^:[0-9]+:[0-9]+: \S)");
    if (with_place && !std::regex_search(what.substr(file.size()), place)) broken("the error names no line and column", what);
    if (what.size() <= file.size() + 2) broken("the error says nothing after the file's name", what);
}

void expect_inside_data_directory(const std::string& name, const std::string& what, bool may_be_dir, bool may_be_empty) {
    if ((may_be_dir && name == ".") || (may_be_empty && name.empty())) return;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || name.find('\0') != std::string::npos)
        broken("a file outside the data directory was accepted", what + " = '" + name + "'");
}

}  // namespace ilk::fuzz
