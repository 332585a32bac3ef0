#include <regex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "interrupt.h"

#include "engine/real_server.h"
#include "engine/server.h"
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

std::string pidfile_or_not_applicable(const Trial& t) {
    const StrategySpec& s = t.strategy();
    std::string pidfile = pidfile_of(s);
    if (pidfile.empty())
        throw UnsupportedHere(fmt::format("does not apply: {} writes no pidfile (its lock is on {}, whose contents it never reads)", s.name,
                                          s.lock_file == "." ? "the data directory" : s.lock_file));
    return pidfile;
}

uid_t server_uid(const Trial& t) {
    return t.strategy().server ? server_user(*t.strategy().server).first : kServerUid;
}

long long read_key(const Trial& t) { return parse_pidfile(t.files().read("postmaster.pid").value_or("")).key; }

LabControl& lab(Trial& t) {
    if (!t.env().lab)
        throw UnsupportedHere("this scenario acts on an NFS server and its clients: run it on a network mount (ilk run --guest IMAGE --nfs NAME)");
    return *t.env().lab;
}

void lab_event(Trial& t, Contender& c, const std::string& what) {
    c.transcript.push_back({{"step", fmt::format("LAB at {:.1f} s: {}", t.seconds(), what)}, {"saw", ""}, {"decision", t.decisions()}});
}

void lab_event_all(const std::vector<Trial*>& trials, const std::string& what) {
    for (Trial* t : trials)
        if (Contender* a = t->find("A")) lab_event(*t, *a, what);
}

void pause_for(std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
        throw_if_interrupted();
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(end - std::chrono::steady_clock::now(),
                                                                                 std::chrono::milliseconds(100)));
    }
}

namespace {
// A client's kernel log is every trial's on it (a batch's trials share the
// client): a line naming another trial's data directory ("state recovery
// failed for open file trial-3/postmaster.pid") is that trial's, and one
// counting lost locks concerns only a strategy that holds a lock.
bool concerns(const Trial& t, const std::string& line) {
    static const std::regex other_trial(R"((^|[^\w-])(trial-\d+)/)");
    const std::string mine = t.files().path().filename().string();
    for (auto it = std::sregex_iterator(line.begin(), line.end(), other_trial); it != std::sregex_iterator(); ++it)
        if ((*it)[2].str() != mine) return false;
    static const std::regex lost_locks(R"(lost \d+ locks?)");
    return !(t.strategy().lock.empty() && std::regex_search(line, lost_locks));
}
}  // namespace

void observe_holders(Trial& t, const std::string&) {
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
            if (!line.empty() && concerns(t, line)) kernel += (kernel.empty() ? "" : " | ") + line;
        c->transcript.push_back({{"step", "its client's kernel log"}, {"saw", kernel.empty() ? "nothing" : kernel}, {"decision", t.decisions()}});
    }
}

Contender& start_server_in_lab(Trial& t) {
    LabControl& l = lab(t);
    l.mark_kernel_logs();
    return start_server(t);
}

void wait_a_lease(LabControl& lab, const std::string&, const std::vector<Trial*>& trials) {
    const auto wait = lab.lease() + std::chrono::seconds(2);
    pause_for(wait);
    lab_event_all(trials, fmt::format("{} s passed (a lease and 2 s: an NFSv4 client renews within it)", wait.count()));
}

}  // namespace ilk::scenario_util
