// Platform profiles (platforms/*.toml): ilk::load_profile. Contract: it parses
// or throws ProfileError "FILE:LINE:COL: message"; nothing else escapes.
#include "fuzz.h"
#include "profile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string file = ilk::fuzz::put("platforms/fuzz.toml", data, size);
    try {
        (void)ilk::load_profile(file);
    } catch (const ilk::ProfileError& e) {
        ilk::fuzz::expect_located(e, file);
    }
    return 0;
}
