// What every fuzz harness shares. A harness is one LLVMFuzzerTestOneInput: under
// libFuzzer (ci/fuzz.sh, -DILK_FUZZ=ON with clang) it is fuzzed; elsewhere it is
// linked with replay_main.cpp and CTest feeds it its corpus (tests/fuzz/corpus/NAME),
// under ASan+UBSan in the sanitized pass.
//
// A harness checks more than "no crash": each reader has a contract (an error
// names the file and the place; what is accepted is inside its bounds), and a
// broken contract aborts, so libFuzzer keeps the input as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace ilk::fuzz {

// A private directory (mkdtemp, mode 0700, under TMPDIR or /tmp), made on first
// use and removed at exit: readers that take a path read the input from there.
const std::filesystem::path& scratch();

// Writes the input to scratch()/relative (its directories made) and returns the path.
std::string put(const std::filesystem::path& relative, const std::uint8_t* data, std::size_t size);

// The reader broke its contract on this input: print why and abort.
[[noreturn]] void broken(std::string_view why, std::string_view detail = {});

// An error about a file must say "FILE:LINE:COL: ..." (or "FILE: ..." when
// there is no place, with_place false), so the operator can go there.
void expect_located(const std::exception& e, const std::string& file, bool with_place = true);

// An accepted strategy's or server's file must be a name inside its data
// directory: not empty (unless may_be_empty: none), not "." (unless
// may_be_dir: the directory itself), "..", or a path; no NUL byte.
void expect_inside_data_directory(const std::string& name, const std::string& what, bool may_be_dir, bool may_be_empty);

}  // namespace ilk::fuzz
