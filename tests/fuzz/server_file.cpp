// Server files (servers/*.toml): ilk::load_servers and the strategies made of
// them. Contract: std::runtime_error "FILE:LINE:COL: message" and nothing
// else; an accepted server's pidfile and lock file are inside its data
// directory, and it has a name and a start command.
#include "engine/real_server.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string file = ilk::fuzz::put("servers/fuzz.toml", data, size);
    try {
        for (const ilk::ServerSpec& s : ilk::load_servers({ilk::fuzz::scratch() / "servers"})) {
            if (s.name.empty() || s.start.empty()) ilk::fuzz::broken("a server was accepted without a name or a start command", s.name);
            ilk::fuzz::expect_inside_data_directory(s.pidfile, "pidfile", false, true);
            ilk::fuzz::expect_inside_data_directory(s.lock_file, "lock_file", false, true);
            for (const ilk::StrategySpec& row : ilk::server_strategies(s))
                if (!row.server || row.name.rfind(s.name, 0) != 0) ilk::fuzz::broken("a server's row is not of that server", row.name);
        }
    } catch (const std::runtime_error& e) {
        ilk::fuzz::expect_located(e, file);
    }
    return 0;
}
