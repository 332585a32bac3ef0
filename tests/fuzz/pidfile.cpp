// A pidfile's contents as a crashed or hostile process may leave them:
// ilk::parse_pidfile. Contract: a PID is accepted only from a first line of
// decimal digits naming 1 .. INT_MAX; empty means an empty first line.
#include <climits>
#include <string_view>

#include "engine/server.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const ilk::PidfileRead r = ilk::parse_pidfile(text);
    const std::string_view first = text.substr(0, std::min(text.find('\n'), ilk::kPidfileReadMax));
    if ((r.state == ilk::PidfileRead::empty) != first.empty()) ilk::fuzz::broken("empty is not an empty first line", first);
    if (r.state == ilk::PidfileRead::ok) {
        if (r.pid <= 0 || r.pid > INT_MAX) ilk::fuzz::broken("a PID no process can have was accepted", first);
        if (first.find_first_not_of("0123456789") != std::string_view::npos) ilk::fuzz::broken("a first line that is not digits was accepted", first);
    }
    if (r.state != ilk::PidfileRead::ok && r.state != ilk::PidfileRead::empty && r.state != ilk::PidfileRead::corrupt)
        ilk::fuzz::broken("parsing text said the file was absent or unreadable");
    return 0;
}
