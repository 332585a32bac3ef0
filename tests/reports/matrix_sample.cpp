#include "matrix_sample.h"

namespace ilk::testing {

using json = nlohmann::json;

namespace {

ScenarioResult safe(const std::string& scenario, int schedules) {
    ScenarioResult s;
    s.scenario = scenario;
    s.verdict = Verdict::SAFE;
    s.schedules = schedules;
    s.faults = schedules / 2;
    return s;
}

ScenarioResult failing(const std::string& scenario, Verdict v, const std::string& why) {
    ScenarioResult s;
    s.scenario = scenario;
    s.verdict = v;
    s.schedules = 17;
    s.faults = 1;
    s.reason = why;
    s.variant = "2";
    s.schedule = {"B", "C", "C", "!B", "C"};
    s.counterexample = "counterexamples/tom-2004--concurrent-stale--2.json";
    s.transcript = {{"B", json::array({{{"step", "1 create postmaster.pid"}, {"saw", "EEXIST"}}})},
                    {"C", json::array({{{"step", "7 delete postmaster.pid"}, {"saw", "deleted <old> & \"stale\""}}})}};
    s.coverage = "stopped at the first UNSAFE, after 17 schedules";
    s.findings = {{"exclusion", v, s.variant, s.schedule, why, s.counterexample, -1, "", false}};
    if (v == Verdict::UNSAFE)  // the same search also met a lone starter refused
        s.findings.push_back({"liveness", Verdict::STUCK, "2", {"B", "!B", "C"}, "a lone starter L refused: <corrupt> & \"empty\"",
                              "counterexamples/tom-2004--concurrent-stale--2--liveness.json", -1, "", false});
    return s;
}

// As on a network mount whose server forgot the first holder's lock.
ScenarioResult never_told(ScenarioResult s) {
    s.exposure_ms = 12123;
    s.holder_saw = "A: its I/O: read ok, write ok, fsync ok; its client's kernel log: <nothing> & \"quiet\"";
    s.never_told = true;
    // Each variant judged: the restart told its clients in one, not in the other.
    s.variant = "no-notify";
    for (FoundViolation& f : s.findings) f.variant = s.variant;
    s.findings.front().exposure_ms = s.exposure_ms;
    s.findings.front().holder_saw = s.holder_saw;
    s.findings.front().never_told = true;
    s.variants = {{"notify", Verdict::SAFE, 1, false, -1, {}}, {"no-notify", Verdict::UNSAFE, 1, true, s.exposure_ms, {}}};
    return s;
}

ScenarioResult unsupported(const std::string& scenario, const std::string& why) {
    ScenarioResult s;
    s.scenario = scenario;
    s.verdict = Verdict::UNSUPPORTED;
    s.reason = why;
    return s;
}

StrategyCell cell(const std::string& strategy, std::vector<ScenarioResult> scenarios) {
    StrategyCell c;
    c.strategy = strategy;
    c.scenarios = std::move(scenarios);
    fold_cell(c);
    return c;
}

Fact fact(const std::string& id, json value, json evidence = json::object()) {
    Fact f;
    f.id = id;
    f.measured = true;
    f.value = std::move(value);
    f.evidence = std::move(evidence);
    return f;
}

Fact unmeasured(const std::string& id, const std::string& reason) {
    Fact f;
    f.id = id;
    f.reason = reason;
    return f;
}

Comparison comparison(const std::string& fact, const std::string& pattern, Outcome outcome, json expected, json observed,
                      const std::string& source, int line, const std::string& known = "") {
    return {{pattern, std::move(expected), source, "", known, {"platforms/linux.toml", line, 1}, {}}, fact, outcome, std::move(observed), ""};
}

ProbeReport probe_with(std::vector<Fact> facts, std::vector<Comparison> comparisons) {
    ProbeReport p;
    for (Fact& f : facts) p.facts.emplace(f.id, std::move(f));
    p.profile = "linux";
    p.profile_file = "platforms/linux.toml";
    p.comparisons = std::move(comparisons);
    return p;
}

ProbeReport probe() {
    return probe_with({fact("locks.fcntl.excludes_other_process", true),
                       fact("locks.flock.excludes_other_process", false, {{"note", "lock <forwarded> & lost"}}),
                       fact("locks.slow-release.handover_ms", 1503.96), fact("locks.flock.conflicts_with.fcntl", true),
                       unmeasured("segments.sysv.attach_count_visible", "not root")},
                      {comparison("locks.flock.excludes_other_process", "locks.*.excludes_other_process", Outcome::deviation, true, false,
                                  "Linux flock(2)", 40),
                       comparison("locks.fcntl.excludes_other_process", "locks.*.excludes_other_process", Outcome::match, true, true,
                                  "POSIX fcntl", 40),
                       comparison("locks.slow-release.handover_ms", "locks.*.handover_ms", Outcome::deviation, {{"at_most", 100}}, 1503.96,
                                  "Linux fs/locks.c", 53),
                       comparison("locks.flock.conflicts_with.fcntl", "locks.flock.conflicts_with.fcntl", Outcome::known_deviation, false,
                                  true, "Linux flock(2) NOTES", 140, "NFS emulates flock with fcntl")});
}

// The probe of a target where every claim held.
ProbeReport conforming_probe() {
    return probe_with({fact("segments.sysv.attach_count_visible", true)},
                      {comparison("segments.sysv.attach_count_visible", "segments.sysv.attach_count_visible", Outcome::match, true, true,
                                  "Linux shmctl(2)", 120)});
}

TargetResult target(const std::string& name, const std::string& platform, const std::string& fstype) {
    TargetResult t;
    t.name = name;
    t.kind = name.front() == '/' ? "directory" : "kit";
    t.platform = platform;
    t.host = "host-a";
    t.info = {{"path", "/tmp/ilk-scratch/" + name}, {"fstype", fstype}, {"mount_options", "rw,relatime"}};
    t.elapsed_ms = 12345;
    t.probe = probe();
    return t;
}

}  // namespace

MatrixReport sample_matrix(bool merged) {
    const std::string linux61 = "linux 6.1.0-28-amd64";
    MatrixReport r;
    r.host = {{"os", "Linux"}, {"kernel", "6.1.0-28-amd64"}, {"hostname", "host-a"}, {"ilk_version", "0.1.0"}};
    r.profile = "linux";
    r.schedule = "exhaustive (preemption bound 2, up to 1 fault, at most 50 schedules per variant)";
    r.strategies = {{"tom-2004", "Tom Lane's 9 steps", "seed thread", "", {}},
                    {"lifetime-flock", "flock for the server's whole life", "seed thread, Bruce Momjian", "", {}},
                    {"pg-current", "PostgreSQL 16-17 <miscinit.c> & \"sysv_shmem.c\"", "PostgreSQL", "", {}}};
    r.scenarios = {{"concurrent-stale", "two starters, a stale pidfile"},
                   {"crash-orphans", "crashed server, live backends"},
                   {"container-split", "contenders in other PID/IPC namespaces"}};

    TargetResult tmpfs = target("tmpfs", linux61, "tmpfs");
    tmpfs.cells = {
        cell("tom-2004", {failing("concurrent-stale", Verdict::UNSAFE, "C reached RUNNING first; then B did <7 delete> & ran \"too\"]]>"),
                          safe("crash-orphans", 12), safe("container-split", 3)}),
        cell("lifetime-flock", {safe("concurrent-stale", 50), safe("crash-orphans", 8), safe("container-split", 4)}),
        cell("pg-current", {safe("concurrent-stale", 50), failing("crash-orphans", Verdict::STUCK, "refused: 'another server is starting'"),
                            unsupported("container-split", "scenario container-split needs root; run as root")}),
    };
    TargetResult ext4 = target("ext4", linux61, "ext4");
    ext4.cells = {
        cell("tom-2004", {never_told(failing("concurrent-stale", Verdict::UNSAFE, "C reached RUNNING first")), safe("crash-orphans", 12),
                          safe("container-split", 3)}),
        cell("lifetime-flock", {safe("concurrent-stale", 50), safe("crash-orphans", 8), safe("container-split", 4)}),
        cell("pg-current", {safe("concurrent-stale", 50), safe("crash-orphans", 9),
                            unsupported("container-split", "scenario container-split needs root; run as root")}),
    };
    TargetResult xfs = target("xfs", linux61, "");
    xfs.unsupported = "mkfs.xfs is not installed: apt-get install xfsprogs";
    xfs.probe.reset();
    TargetResult huge = target("hugetlbfs", linux61, "hugetlbfs");
    huge.segments_only = true;
    huge.probe = conforming_probe();
    huge.cells = {cell("tom-2004", {unsupported("concurrent-stale", "hugetlbfs holds segments only, not a data directory")})};
    huge.cells[0].scenarios[0].matters = false;
    fold_cell(huge.cells[0]);
    r.targets = {tmpfs, ext4, xfs, huge};
    r.not_run = {{"freebsd", "FreeBSD", "FreeBSD: fcntl, flock, SysV", "platforms/freebsd.toml", 12, {"ufs", "zfs", "tmpfs"}}};
    r.elapsed_ms = 98765;

    if (merged) {
        TargetResult other = target("tmpfs", "linux 6.12.9-amd64", "tmpfs");
        other.host = "vm-612";
        other.source = "vm-612.json";
        other.cells = {cell("tom-2004", {safe("concurrent-stale", 50)}), cell("lifetime-flock", {safe("concurrent-stale", 50)})};
        TargetResult conflict = target("tmpfs", linux61, "tmpfs");
        conflict.host = "host-b";
        conflict.source = "host-b.json";
        conflict.cells = {cell("tom-2004", {safe("concurrent-stale", 50)}),
                          cell("lifetime-flock", {safe("concurrent-stale", 50)}),
                          cell("pg-current", {safe("concurrent-stale", 50)})};
        for (TargetResult& t : r.targets) t.source = "host-a.json";
        r.targets.push_back(other);
        r.targets.push_back(conflict);
        r.merged_from = {"host-a.json", "vm-612.json", "host-b.json"};
    }
    return r;
}

std::string hostile_payload(const std::string& where) {
    const std::string run = "document.title='EXECUTED " + where + "'";
    return "<script>" + run + "</script><img src=x onerror=\"" + run + "\"><svg onload=\"" + run + "\"></svg>'\"><iframe src=javascript:" + run +
           "></iframe>";
}

MatrixReport hostile_matrix() {
    MatrixReport r = sample_matrix(true);
    r.host["hostname"] = hostile_payload("hostname");
    r.host["kernel"] = hostile_payload("kernel");
    r.profile = hostile_payload("profile");
    r.schedule = hostile_payload("schedule");
    r.merged_from.push_back(hostile_payload("merged-from"));
    r.strategies.push_back({hostile_payload("strategy-name"), hostile_payload("strategy-summary"), hostile_payload("strategy-source"),
                            hostile_payload("server-model"), {hostile_payload("server-difference")}});
    r.scenarios[0].summary = hostile_payload("scenario-summary");
    r.not_run[0].summary = hostile_payload("not-run");
    r.not_run[0].file = hostile_payload("not-run-file");
    for (TargetResult& t : r.targets) {
        t.host = hostile_payload("target-host");
        t.platform = hostile_payload("platform");
        t.info["path"] = hostile_payload("path");
        t.info["mount_options"] = hostile_payload("mount-options");
        t.info["requested"] = {{"fstype", hostile_payload("requested-fstype")}, {"options", hostile_payload("requested-options")}};
        if (!t.unsupported.empty()) t.unsupported = hostile_payload("unsupported");
        if (t.probe) {
            t.probe->profile_file = hostile_payload("profile-file");
            for (Comparison& c : t.probe->comparisons) c.expectation.source = hostile_payload("profile-source");
            for (auto& [id, f] : t.probe->facts) f.evidence = {{"note", hostile_payload("fact-evidence")}};
        }
        for (StrategyCell& c : t.cells)
            for (ScenarioResult& s : c.scenarios) {
                if (s.verdict == Verdict::SAFE) continue;
                s.reason = hostile_payload("server-log-line");
                s.counterexample = hostile_payload("counterexample-path");
                s.holder_saw = hostile_payload("holder-saw");
                s.transcript = {{"B", nlohmann::json::array({{{"step", hostile_payload("transcript-step")}, {"saw", hostile_payload("transcript-saw")}}})}};
                for (FoundViolation& f : s.findings) {
                    f.explanation = hostile_payload("finding");
                    if (f.never_told) f.holder_saw = s.holder_saw;
                }
            }
    }
    // A real server's cell: its row names the server and its evidence is its log's line.
    StrategyCell server;
    server.strategy = r.strategies.back().name;
    ScenarioResult refused;
    refused.scenario = "concurrent-stale";
    refused.verdict = Verdict::STUCK;
    refused.reason = hostile_payload("server-evidence");
    server.scenarios = {refused};
    fold_cell(server);
    r.targets[0].cells.push_back(server);
    return r;
}

}  // namespace ilk::testing
