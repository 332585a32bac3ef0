// Strategy files (strategies/*.toml): ilk::load_strategies. Contract: it
// throws std::runtime_error "FILE:LINE:COL: message" and nothing else, and
// what it accepts names a template the kit has and lock and pid files inside
// the data directory.
#include "engine/strategy.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string file = ilk::fuzz::put("strategies/fuzz.toml", data, size);
    try {
        for (const ilk::StrategySpec& s : ilk::load_strategies({ilk::fuzz::scratch() / "strategies"})) {
            if (!ilk::find_template(s.template_name)) ilk::fuzz::broken("a strategy was accepted with an unknown template", s.template_name);
            if (s.name.empty()) ilk::fuzz::broken("a strategy was accepted without a name");
            ilk::fuzz::expect_inside_data_directory(s.lock_file, "lock_file", true, false);
            if (const std::string p = ilk::pidfile_of(s); !p.empty()) ilk::fuzz::expect_inside_data_directory(p, "its pidfile", false, false);
        }
    } catch (const std::runtime_error& e) {
        ilk::fuzz::expect_located(e, file);
    }
    return 0;
}
