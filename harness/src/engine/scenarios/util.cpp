#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "interrupt.h"

#include "engine/scenario.h"

namespace ilk::scenario_util {

Contender& start_server(Trial& t, const SpawnOptions& o) {
    Contender& a = t.spawn("A", o);
    t.run_to_end(a);
    if (a.state != Contender::State::running)
        throw std::runtime_error("the first server A could not start on a fresh data directory: " + a.why);
    return a;
}

SpawnOptions plain(Trial&, const std::string&, int) { return {}; }

namespace {
std::vector<std::string> pidfile_lines(const Trial& t) {
    std::istringstream in(t.files().read("postmaster.pid").value_or(""));
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l) && lines.size() < 8;) lines.push_back(l);
    return lines;
}
}  // namespace

long read_pid(const Trial& t) {
    const auto lines = pidfile_lines(t);
    return lines.empty() ? -1 : std::strtol(lines[0].c_str(), nullptr, 10);
}

long long read_key(const Trial& t) {
    const auto lines = pidfile_lines(t);
    long long key = -1;
    if (lines.size() >= 7) std::sscanf(lines[6].c_str(), "%lld", &key);
    return key;
}

LabControl& lab(Trial& t) {
    if (!t.env().lab)
        throw UnsupportedHere("this scenario acts on an NFS server and its clients: run it on a network mount (ilk run --guest IMAGE --nfs NAME)");
    return *t.env().lab;
}

void lab_event(Trial& t, Contender& c, const std::string& what) {
    c.transcript.push_back({{"step", fmt::format("LAB at {:.1f} s: {}", t.seconds(), what)}, {"saw", ""}, {"decision", t.decisions()}});
}

void pause_for(std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
        throw_if_interrupted();
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(end - std::chrono::steady_clock::now(),
                                                                                 std::chrono::milliseconds(100)));
    }
}

void observe_holders(Trial& t) {
    for (auto& c : t.contenders()) {
        if (c->state != Contender::State::running || !c->alive(c->proc)) continue;
        // I/O on NFS that lost its server waits for it (a soft mount's retries, TCP's back-off): a minute.
        const double asked = t.seconds();
        t.command(*c, "observe", std::chrono::seconds(60));
        c->transcript.back()["saw"] = fmt::format("{} (asked at {:.1f} s, answered in {:.1f} s)", c->transcript.back()["saw"].get<std::string>(),
                                                  asked, t.seconds() - asked);
        const int client = c->host == &t.host_for("A") ? 0 : 1;
        std::string kernel;
        for (const std::string& line : lab(t).kernel_log(client))
            if (!line.empty()) kernel += (kernel.empty() ? "" : " | ") + line;
        c->transcript.push_back({{"step", "its client's kernel log"}, {"saw", kernel.empty() ? "nothing" : kernel}, {"decision", t.decisions()}});
    }
}

Contender& start_server_in_lab(Trial& t) {
    LabControl& l = lab(t);
    l.kernel_log(0), l.kernel_log(1);
    return start_server(t);
}

void observe_after_a_lease(Trial& t, const std::string&) {
    pause_for(lab(t).lease() + std::chrono::seconds(2));
    observe_holders(t);
}

}  // namespace ilk::scenario_util
