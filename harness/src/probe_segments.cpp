// Segment facts: attach counts and removal, seen by real processes.
#include <fmt/format.h>

#include "probe.h"

namespace ilk {

namespace {

using json = nlohmann::json;
constexpr std::uint64_t kSegmentSize = 64 * 1024;

ActorRequest seg_request(ActorCmd cmd, const std::string& s, const SegmentRef* ref = nullptr) {
    ActorRequest r{cmd};
    std::snprintf(r.primitive, sizeof r.primitive, "%s", s.c_str());
    if (ref) r.ref = *ref;
    return r;
}

// Creator actor with a fresh segment attached. Retries the next key when a
// foreign segment sits on one (as PostgreSQL does).
struct Creator {
    Actor actor;
    SegmentRef ref;
};

Creator create_attached(Lab& lab, const std::string& s, json& steps) {
    Creator c{lab.spawn(), {}};
    for (int attempt = 0; attempt < 16; ++attempt) {
        ActorRequest req = seg_request(ActorCmd::seg_create, s);
        req.key = lab.fresh_key(s, c.actor.pid());
        req.size = kSegmentSize;
        const ActorReply reply = c.actor.call(req);
        if (reply.result.status == OpStatus::busy) continue;
        if (reply.result.status != OpStatus::ok)
            throw std::runtime_error(fmt::format("creating a {} segment failed: {}", s, reply.result.message));
        c.ref = reply.ref;
        const OpResult a = c.actor.call(seg_request(ActorCmd::seg_attach, s, &c.ref)).result;
        if (a.status != OpStatus::ok) throw std::runtime_error(fmt::format("attaching the new {} segment failed: {}", s, a.message));
        steps.push_back({{"who", "A"}, {"did", fmt::format("create and attach {} segment key {:#x}", s, c.ref.key)}, {"saw", "ok"}});
        return c;
    }
    throw std::runtime_error("16 segment keys in a row were taken");
}

// Ask a fresh process for the attach count.
OpResult count_from_other(Lab& lab, const std::string& s, const SegmentRef& ref, std::int64_t& count, json& steps) {
    Actor b = lab.spawn();
    const ActorReply reply = b.call(seg_request(ActorCmd::seg_count, s, &ref));
    count = reply.value;
    json st{{"who", "B"}, {"did", "read the attach count"}};
    st["saw"] = reply.result.status == OpStatus::ok ? json(count) : json(reply.result.message);
    steps.push_back(st);
    return reply.result;
}

void remove_quietly(Lab& lab, const std::string& s, const SegmentRef& ref) {
    Actor r = lab.spawn();
    r.call(seg_request(ActorCmd::seg_remove, s, &ref));
}

void measure_one(Lab& lab, const Primitive& prim, FactSet& out) {
    const std::string s = prim.desc->name;
    const std::string base = "segments." + s + ".";
    auto add = [&](const std::string& name, const std::function<Fact()>& fn) {
        const std::string id = base + name;
        Fact f = timed(id, fn);
        f.id = id;
        out[id] = std::move(f);
    };

    add("attach_count_visible", [&] {
        json steps = json::array();
        Creator c = create_attached(lab, s, steps);
        Actor b = lab.spawn();
        const OpResult a = b.call(seg_request(ActorCmd::seg_attach, s, &c.ref)).result;
        steps.push_back({{"who", "B"}, {"did", "attach"}, {"saw", a.status == OpStatus::ok ? "ok" : a.message}});
        std::int64_t count = -1;
        const OpResult r = count_from_other(lab, s, c.ref, count, steps);
        remove_quietly(lab, s, c.ref);
        if (r.status == OpStatus::unsupported)
            return measured_fact(base + "attach_count_visible", false, {{"steps", steps}, {"reason", r.message}});
        if (r.status != OpStatus::ok)
            return unmeasured_fact(base + "attach_count_visible", fmt::format("reading the count failed: {}", r.message));
        return measured_fact(base + "attach_count_visible", count == 2, {{"steps", steps}, {"expected_count", 2}, {"count", count}});
    });

    add("attach_count_after_creator_kill", [&] {
        json steps = json::array();
        Creator c = create_attached(lab, s, steps);
        Actor child = c.actor.fork_child(lab.journal());
        steps.push_back({{"who", "A"}, {"did", fmt::format("fork (child {} inherits the attachment)", child.pid())}, {"saw", "ok"}});
        c.actor.kill_now(SIGKILL);
        steps.push_back({{"who", "A"}, {"did", "SIGKILL"}, {"saw", c.actor.end()}});
        std::int64_t count = -1;
        const OpResult r = count_from_other(lab, s, c.ref, count, steps);
        remove_quietly(lab, s, c.ref);
        if (r.status != OpStatus::ok)
            return unmeasured_fact(base + "attach_count_after_creator_kill", fmt::format("no attach count: {}", r.message), json{{"steps", steps}});
        return measured_fact(base + "attach_count_after_creator_kill", count, {{"steps", steps}});
    });

    add("attach_after_rmid", [&] {
        json steps = json::array();
        Creator c = create_attached(lab, s, steps);
        const OpResult rm = c.actor.call(seg_request(ActorCmd::seg_remove, s, &c.ref)).result;
        steps.push_back({{"who", "A"}, {"did", "remove the segment while attached"}, {"saw", rm.status == OpStatus::ok ? "ok" : rm.message}});
        if (rm.status != OpStatus::ok) return unmeasured_fact(base + "attach_after_rmid", fmt::format("remove failed: {}", rm.message));
        Actor b = lab.spawn();
        const OpResult a = b.call(seg_request(ActorCmd::seg_attach, s, &c.ref)).result;
        steps.push_back({{"who", "B"}, {"did", "attach by id/path after removal"}, {"saw", a.status == OpStatus::ok ? "ok" : a.message}});
        if (a.status == OpStatus::error && a.err == 0)
            return unmeasured_fact(base + "attach_after_rmid", fmt::format("attach failed: {}", a.message), json{{"steps", steps}});
        return measured_fact(base + "attach_after_rmid", a.status == OpStatus::ok, {{"steps", steps}});
    });
}

}  // namespace

void probe_segments(Lab& lab, const std::vector<const Primitive*>& segments, FactSet& out) {
    for (const Primitive* p : segments) measure_one(lab, *p, out);
}

}  // namespace ilk
