// What an agent says (agent_protocol.h): the input is the agent's whole side of
// the stream, lines of JSON or not, answered to a fixed sequence of requests.
// Contract: whatever it says, the host side neither crashes nor lets anything
// but std::runtime_error out of the calls that may fail (spawn, plant_process,
// plant_segment, segment_on_key, file, actor_spawn, exec), and nothing at all
// out of the others or of its destructor. What it says stays data: the calls
// only return it, and a file read returns no more than was asked for.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "fuzz.h"
#include "host/agent_host.h"
#include "host/files.h"

namespace {
using namespace std::chrono_literals;

template <class F>
void may_fail(F&& f) {
    try {
        f();
    } catch (const std::runtime_error&) {
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) ilk::fuzz::broken("socketpair");
    const int buffer = 1 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    size = std::min<std::size_t>(size, 256 * 1024);
    for (std::size_t off = 0; off < size;) {
        const ssize_t n = write(sv[1], data + off, size - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
    }
    shutdown(sv[1], SHUT_WR);  // the agent says no more; the host's requests still go through
    std::unique_ptr<ilk::AgentHost> host;
    try {
        host = std::make_unique<ilk::AgentHost>("fuzz", sv[0], -1, 20ms, 20ms);
    } catch (const std::runtime_error&) {
        close(sv[1]);
        return 0;
    }
    const ilk::ProcessId p{1234, 5678};
    may_fail([&] {
        ilk::SpawnedContender c = host->spawn({});
        if (c.link) (void)c.link->receive(20ms);
    });
    (void)host->alive(p);
    host->signal(p, 0);
    (void)host->children(p);
    host->record("segment", "key 1");
    host->reclaim_segment("sysv-shm", 1, 1234);
    may_fail([&] {
        const ilk::PlantedProcess planted = host->plant_process(1234, 0, -1);
        (void)host->planted_signal(planted);
        host->remove_planted(planted);
    });
    may_fail([&] {
        const int id = host->plant_segment(42);
        (void)host->segment_intact(id);
        host->remove_planted_segment(id);
    });
    may_fail([&] { (void)host->segment_on_key(42); });
    may_fail([&] {
        const ilk::HostDir dir(*host, "/srv/ilk/trial-1");
        if (const auto text = dir.read("postmaster.pid", 64); text && text->size() > 64) ilk::fuzz::broken("a read returned more than asked");
        (void)dir.list();
        (void)dir.exists("postmaster.pid");
    });
    may_fail([&] {
        const ilk::AgentHost::RemoteActor a = host->actor_spawn();
        (void)host->actor_call(a, {}, 20ms);
        (void)host->actor_kill(a, 9);
        host->actor_end(a);
    });
    may_fail([&] { (void)host->exec({"true"}, 20ms); });
    (void)host->hello().dump();
    host.reset();
    close(sv[1]);
    return 0;
}
