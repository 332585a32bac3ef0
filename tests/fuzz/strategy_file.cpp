// Strategy files (strategies/*.toml): ilk::load_strategies. Contract: it
// throws std::runtime_error "FILE:LINE:COL: message" and nothing else, and
// what it accepts names a template the kit has and lock and pid files inside
// the data directory.
#include <algorithm>

#include "engine/strategy.h"
#include "fuzz.h"

namespace {
void inside_data_directory(const std::string& name, const std::string& what, bool may_be_dir) {
    if (may_be_dir && name == ".") return;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || name.find('\0') != std::string::npos)
        ilk::fuzz::broken("a strategy was accepted with a file outside its data directory", what + " = '" + name + "'");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string file = ilk::fuzz::put("strategies/fuzz.toml", data, size);
    try {
        for (const ilk::StrategySpec& s : ilk::load_strategies({ilk::fuzz::scratch() / "strategies"})) {
            if (!ilk::find_template(s.template_name)) ilk::fuzz::broken("a strategy was accepted with an unknown template", s.template_name);
            if (s.name.empty()) ilk::fuzz::broken("a strategy was accepted without a name");
            inside_data_directory(s.lock_file, "lock_file", true);
            if (const std::string p = ilk::pidfile_of(s); !p.empty()) inside_data_directory(p, "its pidfile", false);
        }
    } catch (const std::runtime_error& e) {
        ilk::fuzz::expect_located(e, file);
    }
    return 0;
}
