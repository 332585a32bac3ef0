#include "probe_hosts.h"

#include <fcntl.h>
#include <signal.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "host/agent_host.h"
#include "host/nfs.h"
#include "probe_report.h"
#include "probe.h"

namespace ilk {

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kOpenFlags = O_RDWR | O_CREAT;
constexpr auto kHandoverTimeout = 2000ms;

// One side of a fact across two hosts: an actor on some host, holding the
// descriptors it opens. Each call is one act; a failure is an OpResult.
class Party {
public:
    virtual ~Party() = default;
    const std::string& who() const { return who_; }
    virtual OpResult open(const std::string& path, int& fd) = 0;
    virtual OpResult lock(const std::string& primitive, int fd) = 0;
    virtual std::string kill() = 0;  // SIGKILL; how it ended

protected:
    std::string who_;
};

// An actor here, in the lab's host.
class LocalParty : public Party {
public:
    LocalParty(Lab& lab, std::string who) : a_(lab.spawn()) { who_ = std::move(who); }
    OpResult open(const std::string& path, int& fd) override {
        fd = a_.open(path, kOpenFlags);
        return fd < 0 ? op_fail(OpStatus::error, 0, "cannot open %s", path.c_str()) : op_ok();
    }
    OpResult lock(const std::string& primitive, int fd) override { return a_.lock(primitive, fd); }
    std::string kill() override {
        a_.kill_now(SIGKILL);
        return a_.end();
    }

private:
    Actor a_;
};

// An actor on an agent's host (another kernel, or other namespaces).
class RemoteParty : public Party {
public:
    RemoteParty(AgentHost& host, std::string who) : host_(host), actor_(host.actor_spawn()) { who_ = std::move(who); }
    ~RemoteParty() override { host_.actor_end(actor_); }
    RemoteParty(const RemoteParty&) = delete;

    ActorReply call(ActorCmd cmd, const std::string& primitive = {}, std::int32_t fd = -1, std::int32_t arg = 0,
                    const std::string& path = {}, std::int64_t key = 0) {
        ActorRequest r{cmd};
        r.fd = fd;
        r.arg = arg;
        r.key = key;
        std::snprintf(r.primitive, sizeof r.primitive, "%s", primitive.c_str());
        std::snprintf(r.path, sizeof r.path, "%s", path.c_str());
        return host_.actor_call(actor_, r, 3000ms);
    }
    OpResult open(const std::string& path, int& fd) override {
        const ActorReply r = call(ActorCmd::open_file, {}, -1, kOpenFlags, path);
        fd = static_cast<int>(r.value);
        return r.result;
    }
    OpResult lock(const std::string& primitive, int fd) override { return call(ActorCmd::lock, primitive, fd).result; }
    std::string kill() override { return host_.actor_kill(actor_, SIGKILL); }

private:
    AgentHost& host_;
    AgentHost::RemoteActor actor_;
};

json step(const std::string& who, const std::string& did, const OpResult& r) {
    json j{{"who", who}, {"did", did}, {"saw", r.status == OpStatus::ok ? "ok" : r.status == OpStatus::busy ? "busy" : r.message}};
    if (r.err) j["errno"] = errno_name(r.err);
    return j;
}

// How a fact across two hosts is named: hosts.locks.<P>.excludes_other_host,
// or clients.locks.<P>.excludes_other_client.
struct Naming {
    std::string prefix, other;  // "hosts", "host"
    std::string excludes() const { return "excludes_other_" + other; }
};

// A takes a `p` lock on `path`; B (made only then) tries `q` on the same file:
// kept out? With measure_handover, A is SIGKILLed and B tries until granted.
// Writes `fact` (and released_on_holder_kill when measure_handover).
void lock_pair(Party& a, const std::function<std::unique_ptr<Party>()>& make_b, const std::string& path, const std::string& p,
               const std::string& q, const std::string& fact, const std::string& base, bool measure_handover, FactSet& out) {
    json steps = json::array();
    int fd = -1;
    OpResult held = a.open(path, fd);
    if (held.status == OpStatus::ok) held = a.lock(p, fd);
    steps.push_back(step(a.who(), fmt::format("{} lock on {}", p, path), held));
    const std::string released = base + "released_on_holder_kill";
    if (held.status != OpStatus::ok) {
        out[fact] = unmeasured_fact(fact, fmt::format("A could not take the {} lock: {}", p, held.message), {{"steps", steps}});
        if (measure_handover) out[released] = unmeasured_fact(released, out[fact].reason, {{"steps", steps}});
        return;
    }
    const std::unique_ptr<Party> b = make_b();
    int bfd = -1;
    OpResult tried = b->open(path, bfd);
    if (tried.status == OpStatus::ok) tried = b->lock(q, bfd);
    steps.push_back(step(b->who(), q + " try-lock on the same file", tried));
    if (tried.status != OpStatus::ok && tried.status != OpStatus::busy)
        out[fact] = unmeasured_fact(fact, fmt::format("B's try-lock failed: {}", tried.message), {{"steps", steps}});
    else
        out[fact] = measured_fact(fact, tried.status == OpStatus::busy, {{"steps", steps}});
    if (!measure_handover) return;
    if (tried.status != OpStatus::busy) {
        out[released] = unmeasured_fact(released, "B was never kept out, so there is no hand-over to see", {{"steps", steps}});
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    steps.push_back({{"who", a.who()}, {"did", "SIGKILL"}, {"saw", a.kill()}});
    OpResult got{};
    do got = b->lock(q, bfd);
    while (got.status == OpStatus::busy && std::chrono::steady_clock::now() - t0 < kHandoverTimeout);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    steps.push_back(step(b->who(), q + " try-lock until granted", got));
    json evidence{{"steps", steps}};
    if (got.status == OpStatus::ok) evidence["handover_ms"] = ms;
    else evidence["note"] = fmt::format("B was not granted the lock within {} ms of A's death", kHandoverTimeout.count());
    out[released] = measured_fact(released, got.status == OpStatus::ok, evidence);
}

void lock_facts(Lab& lab, AgentHost& other, const std::string& p, FactSet& out) {
    const std::string base = "hosts.locks." + p + ".";
    LocalParty a(lab, "A (here)");
    lock_pair(
        a, [&] { return std::make_unique<RemoteParty>(other, "B (" + other.name() + ")"); }, lab.fresh_file("hosts-lock-" + p), p, p,
        base + "excludes_other_host", base, true, out);
}

void segment_fact(Lab& lab, AgentHost& other, const Primitive& s, FactSet& out) {
    const std::string id = "hosts.segments." + std::string(s.desc->name) + ".key_visible_on_other_host";
    if (!(s.desc->caps & kSegKeyed)) {
        out[id] = unmeasured_fact(id, fmt::format("{} segments are not found by a key", s.desc->name));
        return;
    }
    json steps = json::array();
    Actor a = lab.spawn();
    const std::int64_t key = lab.fresh_key(s.desc->name, a.pid());
    ActorRequest create{ActorCmd::seg_create};
    create.key = key;
    create.size = 4096;
    std::snprintf(create.primitive, sizeof create.primitive, "%s", s.desc->name);
    const ActorReply made = a.call(create);
    steps.push_back(step("A (here)", fmt::format("create {} segment, key {}", s.desc->name, key), made.result));
    if (made.result.status != OpStatus::ok) {
        out[id] = unmeasured_fact(id, fmt::format("A could not create the segment: {}", made.result.message), {{"steps", steps}});
        return;
    }
    RemoteParty b(other, "B (" + other.name() + ")");
    const OpResult found = b.call(ActorCmd::seg_lookup, s.desc->name, -1, 0, {}, key).result;
    steps.push_back(step(b.who(), fmt::format("look up key {}", key), found));
    ActorRequest remove{ActorCmd::seg_remove};
    remove.ref = made.ref;
    std::snprintf(remove.primitive, sizeof remove.primitive, "%s", s.desc->name);
    a.call(remove);
    if (found.status != OpStatus::ok && found.status != OpStatus::not_found)
        out[id] = unmeasured_fact(id, fmt::format("B's look-up failed: {}", found.message), {{"steps", steps}});
    else
        out[id] = measured_fact(id, found.status == OpStatus::ok, {{"steps", steps}});
}

void kill0_fact(Lab& lab, AgentHost& other, FactSet& out) {
    const std::string id = "hosts.process.kill0_sees_other_host";
    Actor a = lab.spawn();
    RemoteParty b(other, "B (" + other.name() + ")");
    const ActorReply r = b.call(ActorCmd::kill0, {}, -1, a.pid());
    if (r.result.status != OpStatus::ok) {
        out[id] = unmeasured_fact(id, fmt::format("B could not call kill: {}", r.result.message));
        return;
    }
    const int err = static_cast<int>(r.value);
    out[id] = measured_fact(id, err == 0 || err == EPERM,
                            {{"steps", json::array({{{"who", "A (here)"}, {"did", fmt::format("lives as PID {}", a.pid())}},
                                                    {{"who", "B (" + other.name() + ")"},
                                                     {"did", fmt::format("kill({}, 0)", a.pid())},
                                                     {"saw", err == 0 ? "0" : errno_name(err)}}})}});
}

}  // namespace

// Measure `ids` with fn; a fact that could not be measured (the agent gone, a
// step failed) says why. Each gets its share of the time taken.
void guarded(FactSet& out, const std::vector<std::string>& ids, const std::function<void()>& fn) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
        fn();
    } catch (const std::exception& e) {
        for (const std::string& id : ids) out[id] = unmeasured_fact(id, e.what());
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    for (const std::string& id : ids)
        if (out.count(id)) out[id].elapsed_ms = ms / static_cast<double>(ids.size());
}

void probe_across_hosts(Lab& lab, AgentHost& other, const std::vector<const Primitive*>& locks,
                        const std::vector<const Primitive*>& segments, FactSet& out) {
    for (const Primitive* p : locks) {
        const std::string base = "hosts.locks." + std::string(p->desc->name) + ".";
        guarded(out, {base + "excludes_other_host", base + "released_on_holder_kill"}, [&] { lock_facts(lab, other, p->desc->name, out); });
    }
    for (const Primitive* s : segments)
        guarded(out, {"hosts.segments." + std::string(s->desc->name) + ".key_visible_on_other_host"}, [&] { segment_fact(lab, other, *s, out); });
    guarded(out, {"hosts.process.kill0_sees_other_host"}, [&] { kill0_fact(lab, other, out); });
}

void probe_across_clients(AgentHost& a_host, AgentHost& b_host, const std::string& dir, const std::vector<std::string>& locks,
                          FactSet& out) {
    int n = 0;
    auto fresh = [&](const std::string& what) { return fmt::format("{}/clients-{}-{}", dir, what, ++n); };
    auto b = [&] { return std::make_unique<RemoteParty>(b_host, "B (" + b_host.name() + ")"); };
    for (const std::string& p : locks) {
        const std::string base = "clients.locks." + p + ".";
        guarded(out, {base + "excludes_other_client", base + "released_on_holder_kill"}, [&] {
            RemoteParty a(a_host, "A (" + a_host.name() + ")");
            lock_pair(a, b, fresh("lock-" + p), p, p, base + "excludes_other_client", base, true, out);
        });
        for (const std::string& q : locks) {
            if (q == p) continue;
            guarded(out, {base + "conflicts_with." + q}, [&] {
                RemoteParty a(a_host, "A (" + a_host.name() + ")");
                lock_pair(a, b, fresh("conflict-" + p + "-" + q), p, q, base + "conflicts_with." + q, base, false, out);
            });
        }
    }
}

void probe_client_crash(AgentHost& a_host, AgentHost& b_host, const std::vector<CrashMount>& mounts, const std::function<void()>& crash_a,
                        std::chrono::milliseconds window) {
    struct Held {
        FactSet* out;
        RemoteParty* taker;  // B's actor for this mount
        std::string id, primitive, path;
        json steps = json::array();
        int bfd = -1;
        bool pending = false;  // B kept out; waiting for the grant
        double granted_ms = -1;
    };
    std::vector<Held> held;
    std::vector<std::unique_ptr<RemoteParty>> holders, takers;
    const std::string b_who = "B (" + b_host.name() + ")", a_who = "A (" + a_host.name() + ")";
    for (const CrashMount& m : mounts) {
        if (m.locks.empty()) continue;
        holders.push_back(std::make_unique<RemoteParty>(a_host, a_who));
        takers.push_back(std::make_unique<RemoteParty>(b_host, b_who));
        for (const std::string& p : m.locks) {
            Held h{m.out, takers.back().get(), "clients.locks." + p + ".released_on_client_crash", p, m.dir + "/clients-crash-" + p};
            int fd = -1;
            OpResult r = holders.back()->open(h.path, fd);
            if (r.status == OpStatus::ok) r = holders.back()->lock(p, fd);
            h.steps.push_back(step(a_who, fmt::format("{} lock on {}", p, h.path), r));
            if (r.status != OpStatus::ok) {
                (*m.out)[h.id] = unmeasured_fact(h.id, fmt::format("A could not take the {} lock: {}", p, r.message), {{"steps", h.steps}});
                continue;
            }
            r = h.taker->open(h.path, h.bfd);
            if (r.status == OpStatus::ok) r = h.taker->lock(p, h.bfd);
            h.steps.push_back(step(b_who, p + " try-lock on the same file", r));
            if (r.status == OpStatus::busy) {
                h.pending = true;
            } else {
                (*m.out)[h.id] = unmeasured_fact(
                    h.id, r.status == OpStatus::ok ? "B was never kept out, so there is no release to see" : "B's try-lock failed: " + std::string(r.message),
                    {{"steps", h.steps}});
            }
            held.push_back(std::move(h));
        }
    }
    if (std::none_of(held.begin(), held.end(), [](const Held& h) { return h.pending; })) return;
    crash_a();
    const auto t0 = std::chrono::steady_clock::now();
    for (Held& h : held)
        if (h.pending) h.steps.push_back({{"who", a_who}, {"did", "its whole guest SIGKILLed"}, {"saw", "gone"}});
    // B tries every pending lock in turn until granted or the window ends.
    for (bool any = true; any && std::chrono::steady_clock::now() - t0 < window;) {
        any = false;
        for (Held& h : held) {
            if (!h.pending || h.granted_ms >= 0) continue;
            const OpResult r = h.taker->lock(h.primitive, h.bfd);
            if (r.status == OpStatus::ok) {
                h.granted_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                h.steps.push_back(step(b_who, h.primitive + " try-lock until granted", r));
            } else {
                any = true;
                if (r.status != OpStatus::busy) h.steps.push_back(step(b_who, h.primitive + " try-lock", r));
            }
        }
        if (any) std::this_thread::sleep_for(200ms);
    }
    for (Held& h : held) {
        if (!h.pending) continue;
        json evidence{{"steps", h.steps}, {"window_ms", window.count()}};
        if (h.granted_ms >= 0) evidence["released_after_ms"] = std::round(h.granted_ms);
        else evidence["note"] = fmt::format("B was still kept out {} s after A's client died", window.count() / 1000);
        (*h.out)[h.id] = measured_fact(h.id, h.granted_ms >= 0, evidence);
    }
}

// One network mount in the NFS lab: client A's own probe of the mount (ilk
// probe in that guest: two processes on one client), then the facts across
// the two clients (compared with the profile once the lab is done).
ProbeReport probe_network_mount(NfsLab& lab, const std::string& name, const std::vector<std::string>& primitives) {
    ProbeReport report;
    const NfsMount& m = lab.mount(name);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> argv{ilk_in_guest().string(), "probe", "--target", m.dir, "--format", "json"};
    for (const std::string& p : primitives) argv.insert(argv.end(), {"--primitive", p});
    std::string failed = m.error;
    if (failed.empty()) {
        try {
            const AgentHost::Ran r = lab.client(0).exec(argv, std::chrono::minutes(10));
            auto parsed = probe_from_json(nlohmann::json::parse(r.out, nullptr, false));
            if (!parsed)
                failed = fmt::format("ilk probe in {} exited {} without a report: {}", lab.client(0).name(), r.rc, r.err.substr(0, 400));
            else
                report = std::move(*parsed);
        } catch (const std::exception& e) {
            failed = e.what();
        }
    }
    report.comparisons.clear();
    report.target = lab.describe(name);
    report.target["name"] = name;
    report.target["path"] = m.dir;
    report.target["fstype"] = m.fstype;
    report.target["mount_options"] = m.applied;
    if (!failed.empty()) {
        report.target["unsupported"] = failed;
        std::cerr << "ilk: network mount " << name << " not probed: " << failed << "\n";
    } else {
        std::vector<std::string> locks;
        for (const PrimitiveStatus& s : report.primitives)
            if (s.supported && s.kind == "lock") locks.push_back(s.name);
        probe_across_clients(lab.client(0), lab.client(1), m.dir, locks, report.facts);
    }
    report.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

}  // namespace ilk
