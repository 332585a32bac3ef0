// A real server's log, as its user wrote it (up to 256 KiB, read_server_file):
// the kit looks for its ready line, its waiting line and its evidence with the
// expressions of the shipped server files. Contract: nothing throws or
// crashes, whatever the log holds (a line of 256 KiB included), and the
// evidence a cell keeps stays within kEvidenceMax.
#include <filesystem>

#include "engine/real_server.h"
#include "fuzz.h"

namespace {
const std::vector<ilk::ServerSpec>& shipped() {
    static const std::vector<ilk::ServerSpec> servers = ilk::load_servers({std::filesystem::path(ILK_FUZZ_SOURCE_DIR) / "servers"});
    return servers;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string log(reinterpret_cast<const char*>(data), size);
    for (const ilk::ServerSpec& s : shipped()) {
        (void)ilk::says_ready(s, log);
        (void)ilk::says_waiting(s, log, "/srv/ilk/trial-1");
        const std::string evidence = ilk::evidence_of(s, log, "/srv/ilk/trial-1");
        if (evidence.size() > ilk::kEvidenceMax + 6) ilk::fuzz::broken("evidence beyond kEvidenceMax", s.name);
    }
    return 0;
}
