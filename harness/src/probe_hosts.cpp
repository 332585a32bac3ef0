#include "probe_hosts.h"

#include <fcntl.h>
#include <signal.h>

#include <chrono>
#include <functional>

#include <fmt/format.h>

#include "host/agent_host.h"
#include "probe.h"

namespace ilk {

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kOpenFlags = O_RDWR | O_CREAT;
constexpr auto kHandoverTimeout = 2000ms;

// B, an actor on the other host.
class Remote {
public:
    explicit Remote(AgentHost& host) : host_(host), actor_(host.actor_spawn()) {}
    ~Remote() { host_.actor_end(actor_); }
    Remote(const Remote&) = delete;

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
    int open(const std::string& path) {
        const ActorReply r = call(ActorCmd::open_file, {}, -1, kOpenFlags, path);
        if (r.result.status != OpStatus::ok)
            throw std::runtime_error(fmt::format("B on {} could not open {}: {}", host_.name(), path, r.result.message));
        return static_cast<int>(r.value);
    }

private:
    AgentHost& host_;
    AgentHost::RemoteActor actor_;
};

json step(const std::string& who, const std::string& did, const OpResult& r) {
    json j{{"who", who}, {"did", did}, {"saw", r.status == OpStatus::ok ? "ok" : r.status == OpStatus::busy ? "busy" : r.message}};
    if (r.err) j["errno"] = errno_name(r.err);
    return j;
}

void lock_facts(Lab& lab, AgentHost& other, const std::string& p, FactSet& out) {
    const std::string base = "hosts.locks." + p + ".";
    json steps = json::array();
    Actor a = lab.spawn();
    const std::string path = lab.fresh_file("hosts-lock-" + p);
    const int fd = a.open(path, kOpenFlags);
    const OpResult held = fd < 0 ? op_fail(OpStatus::error, 0, "cannot open %s", path.c_str()) : a.lock(p, fd);
    steps.push_back(step("A (here)", fmt::format("{} lock on {}", p, path), held));
    if (held.status != OpStatus::ok) {
        for (const char* f : {"excludes_other_host", "released_on_holder_kill"})
            out[base + f] = unmeasured_fact(base + f, fmt::format("A could not take the {} lock: {}", p, held.message), {{"steps", steps}});
        return;
    }
    Remote b(other);
    const int bfd = b.open(path);
    const OpResult tried = b.call(ActorCmd::lock, p, bfd).result;
    steps.push_back(step("B (" + other.name() + ")", p + " try-lock on the same file", tried));
    if (tried.status != OpStatus::ok && tried.status != OpStatus::busy)
        out[base + "excludes_other_host"] = unmeasured_fact(base + "excludes_other_host", fmt::format("B's try-lock failed: {}", tried.message),
                                                            {{"steps", steps}});
    else
        out[base + "excludes_other_host"] = measured_fact(base + "excludes_other_host", tried.status == OpStatus::busy, {{"steps", steps}});
    if (tried.status != OpStatus::busy) {
        out[base + "released_on_holder_kill"] =
            unmeasured_fact(base + "released_on_holder_kill", "B was never kept out, so there is no hand-over to see", {{"steps", steps}});
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    a.kill_now(SIGKILL);
    steps.push_back({{"who", "A (here)"}, {"did", "SIGKILL"}, {"saw", a.end()}});
    OpResult got{};
    do got = b.call(ActorCmd::lock, p, bfd).result;
    while (got.status == OpStatus::busy && std::chrono::steady_clock::now() - t0 < kHandoverTimeout);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    steps.push_back(step("B (" + other.name() + ")", p + " try-lock until granted", got));
    json evidence{{"steps", steps}};
    if (got.status == OpStatus::ok) evidence["handover_ms"] = ms;
    else evidence["note"] = fmt::format("B was not granted the lock within {} ms of A's death", kHandoverTimeout.count());
    out[base + "released_on_holder_kill"] = measured_fact(base + "released_on_holder_kill", got.status == OpStatus::ok, evidence);
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
    Remote b(other);
    const OpResult found = b.call(ActorCmd::seg_lookup, s.desc->name, -1, 0, {}, key).result;
    steps.push_back(step("B (" + other.name() + ")", fmt::format("look up key {}", key), found));
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
    Remote b(other);
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

void probe_across_hosts(Lab& lab, AgentHost& other, const std::vector<const Primitive*>& locks,
                        const std::vector<const Primitive*>& segments, FactSet& out) {
    // A fact that could not be measured (the agent gone, a step failed) says why.
    auto guarded = [&](const std::vector<std::string>& ids, const std::function<void()>& fn) {
        const auto t0 = std::chrono::steady_clock::now();
        try {
            fn();
        } catch (const std::exception& e) {
            for (const std::string& id : ids) out[id] = unmeasured_fact(id, e.what());
        }
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        for (const std::string& id : ids)
            if (out.count(id)) out[id].elapsed_ms = ms / static_cast<double>(ids.size());
    };
    for (const Primitive* p : locks) {
        const std::string base = "hosts.locks." + std::string(p->desc->name) + ".";
        guarded({base + "excludes_other_host", base + "released_on_holder_kill"}, [&] { lock_facts(lab, other, p->desc->name, out); });
    }
    for (const Primitive* s : segments)
        guarded({"hosts.segments." + std::string(s->desc->name) + ".key_visible_on_other_host"}, [&] { segment_fact(lab, other, *s, out); });
    guarded({"hosts.process.kill0_sees_other_host"}, [&] { kill0_fact(lab, other, out); });
}

}  // namespace ilk
