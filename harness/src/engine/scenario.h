// A scenario: an adversarial situation a strategy must survive. It plants
// state (often by starting a first server A and then breaking it), then
// `starters` new contenders start under the explorer's schedules.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "engine/strategy.h"
#include "engine/trial.h"

namespace ilk {

struct Scenario {
    const char* name;
    const char* summary;
    std::vector<std::string> variants;  // e.g. corrupt-pidfile: empty, truncated, ...; {""} for none
    int starters;                       // contenders started after the set-up (0: the variant's number)
    int faults;                         // crash faults (SIGKILL of a starter at a step) explored, at most
    bool needs_root;                    // PID reuse, other uids, namespaces
    // Plant the situation; returns the spawn options for starter i (0-based).
    void (*setup)(Trial& t, const std::string& variant);
    SpawnOptions (*starter)(Trial& t, const std::string& variant, int index);
    // What it changes besides the data directory's files (TemplateReads bits).
    // To a strategy whose template reads none of it, the situation is one
    // another scenario stages without the change (a crash, a running server),
    // so where this one cannot be staged, that strategy's cell does not depend
    // on it. 0: it changes the files (matters to every strategy).
    unsigned changes = 0;
    // A scenario of a network mount's lab (nfs-*): it acts on the server, the
    // clients' links or whole clients (TrialEnv::lab). Run by default only on
    // network mounts, as the others run by default only elsewhere.
    bool network = false;
    // Network scenarios: what is done to the lab once the set-up is done (the
    // server restarted, a link cut, a client killed: `event`), and once the
    // starters are done (the link back, a lease waited for, the client booted:
    // `settle`). Each acts once for every trial in `trials` and writes what it
    // did into each one's transcript. The explorer runs a scenario with an
    // event for a batch of trials, one per strategy, around one event
    // (run_batch): each trial would otherwise wait through its own. Alone,
    // a trial is a batch of one. Null: nothing to do.
    using LabAct = void (*)(LabControl& lab, const std::string& variant, const std::vector<Trial*>& trials);
    LabAct event = nullptr;
    LabAct settle = nullptr;
    // Called once the starters are done (or a violation stopped them) and the
    // lab has settled, before the oracle's last word: ask the holders what they
    // saw. Null: nothing to do.
    void (*after)(Trial& t, const std::string& variant) = nullptr;
    // How many starters a variant has, when it is not `starters` (null: as above).
    int (*starters_in)(const std::string& variant) = nullptr;
};

// Whether a run with these --scenario names runs `s` on a target of that kind
// (a network mount's lab, or not): a named one always, else those made for it.
// A skipped one (--skip-scenario) never.
bool scenario_wanted(const std::vector<std::string>& named, const Scenario& s, bool network_target,
                     const std::vector<std::string>& skipped = {});

const std::vector<Scenario>& scenarios();
const Scenario* find_scenario(std::string_view name);

// Shared by the scenario files.
namespace scenario_util {
inline constexpr uid_t kServerUid = 2147483601;  // the dedicated uid contenders run as where it matters
inline constexpr uid_t kOtherUid = 2147483602;   // "someone else"
// The uid servers run as where it matters: a real server's user, else kServerUid.
uid_t server_uid(const Trial& t);
// Start server A and run it until it holds the directory; throws if it refuses on a fresh directory.
Contender& start_server(Trial& t, const SpawnOptions& o = {});
SpawnOptions plain(Trial&, const std::string&, int);
// The file the strategy writes its PID into (pidfile_of); a strategy that
// writes none (innodb: its lock is on ibdata1) has no cell in a scenario
// about its pidfile: UnsupportedHere says so.
std::string pidfile_or_not_applicable(const Trial& t);
// The segment key in postmaster.pid (-1 when absent, or when it is no pidfile parse_pidfile accepts).
long long read_key(const Trial& t);

// Network scenarios (nfs-*): the network mount's lab (UnsupportedHere elsewhere),
// and a line in contender c's transcript saying what the lab did (in A's, of
// each trial of a batch: lab_event_all).
LabControl& lab(Trial& t);
void lab_event(Trial& t, Contender& c, const std::string& what);
void lab_event_all(const std::vector<Trial*>& trials, const std::string& what);
void pause_for(std::chrono::milliseconds d);  // interruptible
// Every server still running is asked what it sees of the files it holds
// (command "observe": I/O through its lock's descriptors), and its client's
// kernel log since the set-up is added: "what the holder observed". A
// scenario's after.
void observe_holders(Trial& t, const std::string& variant);
// Network scenarios: server A started (on client A), the clients' kernel logs marked here.
Contender& start_server_in_lab(Trial& t);
// A scenario's settle: a lease for an NFSv4 client to find out what happened
// (at its next renewal).
void wait_a_lease(LabControl& lab, const std::string& variant, const std::vector<Trial*>& trials);
}  // namespace scenario_util

}  // namespace ilk
