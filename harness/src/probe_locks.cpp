// Lock facts: each one is an act between real processes (actors), never a query.
#include <fcntl.h>
#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

#include "probe.h"

namespace ilk {

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kOpenFlags = O_RDWR | O_CREAT;
// How long B waits for the lock once its holder is SIGKILLed: far past any
// bound a profile claims (linux.toml: 100 ms), so a slow hand-over is measured
// as slow (handover_ms) instead of being taken for one that never comes.
constexpr auto kHandoverTimeout = 5000ms;

std::string status_word(const OpResult& r) {
    switch (r.status) {
    case OpStatus::ok: return "acquired";
    case OpStatus::busy: return "busy";
    case OpStatus::not_found: return "not found";
    case OpStatus::unsupported: return "unsupported";
    case OpStatus::error: return "error";
    }
    return "?";
}

json step(const std::string& who, const std::string& did, const OpResult& r) {
    json j{{"who", who}, {"did", did}, {"saw", status_word(r)}};
    if (r.err) j["errno"] = errno_name(r.err);
    if (r.message[0]) j["message"] = r.message;
    return j;
}

// A holder actor with the lock taken on a fresh file; throws with the reason if it cannot.
struct Holder {
    Actor actor;
    std::string path;
    int fd;
};

Holder hold(Lab& lab, const std::string& p, json& steps) {
    Holder h{lab.spawn(), lab.fresh_file("lock-" + p), -1};
    h.fd = h.actor.open(h.path, kOpenFlags);
    if (h.fd < 0) throw std::runtime_error(fmt::format("holder could not open {}", h.path));
    const OpResult r = h.actor.lock(p, h.fd);
    steps.push_back(step("A", fmt::format("{} lock on {}", p, h.path), r));
    if (r.status != OpStatus::ok) throw std::runtime_error(fmt::format("holder could not take the {} lock: {}", p, r.message));
    return h;
}

// Does a fresh process B get the lock (with primitive q) on path right now?
OpResult try_from_other(Lab& lab, const std::string& q, const std::string& path, json& steps, const std::string& who = "B") {
    Actor b = lab.spawn();
    const int fd = b.open(path, kOpenFlags);
    if (fd < 0) throw std::runtime_error(fmt::format("{} could not open {}", who, path));
    const OpResult r = b.lock(q, fd);
    steps.push_back(step(who, fmt::format("{} try-lock on {}", q, path), r));
    if (r.status != OpStatus::ok && r.status != OpStatus::busy)
        throw std::runtime_error(fmt::format("{}'s {} try-lock failed: {}", who, q, r.message));
    return r;
}

Fact result(const std::string& id, bool value, json steps, json extra = json::object()) {
    extra["steps"] = std::move(steps);
    return measured_fact(id, value, std::move(extra));
}

// The hand-over time, read from the act that measured released_on_holder_kill:
// a number of milliseconds, or unmeasured with the reason the lock never came.
Fact handover_fact(const std::string& base, const Fact& released) {
    const std::string id = base + "handover_ms";
    json evidence{{"measured_by", base + "released_on_holder_kill"},
                  {"from", "A is sent SIGKILL"},
                  {"to", "B is granted the lock"},
                  {"waited_at_most_ms", kHandoverTimeout.count()}};
    if (released.evidence.contains("steps")) evidence["steps"] = released.evidence["steps"];
    if (!released.measured) return unmeasured_fact(id, "the hand-over could not be tried: " + released.reason, evidence);
    if (!released.evidence.contains("handover_ms"))
        return unmeasured_fact(id, fmt::format("the lock never came: B was not granted it within {} ms of A's death",
                                               kHandoverTimeout.count()),
                               evidence);
    return measured_fact(id, released.evidence["handover_ms"], evidence);
}

void measure_one(Lab& lab, const Primitive& prim, const std::vector<const Primitive*>& all, FactSet& out) {
    const std::string p = prim.desc->name;
    const std::string base = "locks." + p + ".";
    auto add = [&](const std::string& name, const std::function<Fact()>& fn) {
        const std::string id = base + name;
        Fact f = timed(id, fn);
        f.id = id;
        out[id] = std::move(f);
    };

    // Exclusion, and whether asking agrees with trying (principle 2).
    OpResult queried = op_fail(OpStatus::unsupported, 0, "no query");
    OpResult tried{};
    add("excludes_other_process", [&] {
        json steps = json::array();
        Holder h = hold(lab, p, steps);
        Actor b = lab.spawn();
        const int fd = b.open(h.path, kOpenFlags);
        if (prim.desc->caps & kLockCanQuery) {
            queried = b.query(p, fd);
            steps.push_back(step("B", p + " query", queried));
        }
        tried = b.lock(p, fd);
        steps.push_back(step("B", p + " try-lock", tried));
        if (tried.status != OpStatus::ok && tried.status != OpStatus::busy)
            return unmeasured_fact(base + "excludes_other_process", fmt::format("B's try-lock failed: {}", tried.message), json{{"steps", steps}});
        return result(base + "excludes_other_process", tried.status == OpStatus::busy, steps);
    });
    add("query_agrees_with_acquire", [&] {
        if (!(prim.desc->caps & kLockCanQuery)) return unmeasured_fact(base + "query_agrees_with_acquire", p + " offers no query operation");
        if (queried.status != OpStatus::ok && queried.status != OpStatus::busy)
            return unmeasured_fact(base + "query_agrees_with_acquire", fmt::format("query failed: {}", queried.message));
        return measured_fact(base + "query_agrees_with_acquire", queried.status == tried.status,
                             {{"query_said", status_word(queried)}, {"acquire_said", status_word(tried)}});
    });

    // One act, two facts: whether B gets the lock once A is SIGKILLed, and how
    // long that took. A lock that comes a second late still "is released", so
    // the time is a fact of its own that a profile can bound (handover_ms).
    add("released_on_holder_kill", [&] {
        json steps = json::array();
        Holder h = hold(lab, p, steps);
        Actor b = lab.spawn();
        const int fd = b.open(h.path, kOpenFlags);
        const bool blocking = prim.desc->caps & kLockCanBlock;
        ActorRequest req{ActorCmd::lock};
        req.fd = fd;
        req.arg = blocking ? 1 : 0;
        std::snprintf(req.primitive, sizeof req.primitive, "%s", p.c_str());
        if (blocking) b.send(req);  // B waits in the kernel for the lock
        const auto t0 = std::chrono::steady_clock::now();
        h.actor.kill_now(SIGKILL);
        steps.push_back({{"who", "A"}, {"did", "SIGKILL"}, {"saw", h.actor.end()}});
        OpResult got{};
        if (blocking) {
            got = b.wait_reply(kHandoverTimeout).result;
        } else {  // poll for primitives that cannot block
            do got = b.lock(p, fd);
            while (got.status == OpStatus::busy && std::chrono::steady_clock::now() - t0 < kHandoverTimeout);
        }
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        steps.push_back(step("B", blocking ? p + " blocking lock" : p + " try-lock until granted", got));
        if (got.status == OpStatus::ok)
            return result(base + "released_on_holder_kill", true, steps, {{"handover_ms", std::round(ms * 100) / 100}});
        return result(base + "released_on_holder_kill", false, steps,
                      {{"note", fmt::format("B was not granted the lock within {} ms of A's death", kHandoverTimeout.count())}});
    });
    add("handover_ms", [&] { return handover_fact(base, out.at(base + "released_on_holder_kill")); });

    add("released_by_closing_other_fd", [&] {
        json steps = json::array();
        Holder h = hold(lab, p, steps);
        const int other = h.actor.open(h.path, O_RDONLY);
        const OpResult closed = h.actor.close_fd(other);
        steps.push_back(step("A", fmt::format("opened the file again (fd {}) and closed that fd", other), closed));
        const OpResult r = try_from_other(lab, p, h.path, steps);
        return result(base + "released_by_closing_other_fd", r.status == OpStatus::ok, steps);
    });

    add("shared_with_fork_child", [&] {
        json steps = json::array();
        Holder h = hold(lab, p, steps);
        Actor child = h.actor.fork_child(lab.journal());
        const OpResult r = child.lock(p, h.fd);
        steps.push_back(step("A's child", fmt::format("{} try-lock on the inherited fd while A holds", p), r));
        if (r.status != OpStatus::ok && r.status != OpStatus::busy)
            return unmeasured_fact(base + "shared_with_fork_child", fmt::format("child's try-lock failed: {}", r.message), json{{"steps", steps}});
        return result(base + "shared_with_fork_child", r.status == OpStatus::ok, steps);
    });

    add("held_while_child_outlives_holder", [&] {
        json steps = json::array();
        Holder h = hold(lab, p, steps);
        Actor child = h.actor.fork_child(lab.journal());
        steps.push_back({{"who", "A"}, {"did", fmt::format("fork (child {} keeps the fd, takes no lock)", child.pid())}, {"saw", "ok"}});
        h.actor.kill_now(SIGKILL);
        steps.push_back({{"who", "A"}, {"did", "SIGKILL"}, {"saw", h.actor.end()}});
        const OpResult r = try_from_other(lab, p, h.path, steps);
        return result(base + "held_while_child_outlives_holder", r.status == OpStatus::busy, steps);
    });

    add("follows_inode_not_name", [&] {
        json steps = json::array();
        Holder h1 = hold(lab, p, steps);
        if (unlink(h1.path.c_str()) != 0) throw std::runtime_error(fmt::format("unlink {}: {}", h1.path, std::strerror(errno)));
        steps.push_back({{"who", "kit"}, {"did", "unlink the locked file"}, {"saw", "ok"}});
        const OpResult recreated = try_from_other(lab, p, h1.path, steps, "B (new file, same name)");
        Holder h2 = hold(lab, p, steps);
        const std::string tmp = h2.path + ".new";
        if (int fd = ::open(tmp.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600); fd >= 0) close(fd);
        if (rename(tmp.c_str(), h2.path.c_str()) != 0) throw std::runtime_error(fmt::format("rename over {}: {}", h2.path, std::strerror(errno)));
        steps.push_back({{"who", "kit"}, {"did", "rename a new file over the locked one"}, {"saw", "ok"}});
        const OpResult renamed = try_from_other(lab, p, h2.path, steps, "C (renamed-over file)");
        const bool both = recreated.status == OpStatus::ok && renamed.status == OpStatus::ok;
        return result(base + "follows_inode_not_name", both, steps,
                      {{"unlink_recreate", status_word(recreated)}, {"rename_over", status_word(renamed)}});
    });

    // overlayfs: a lockfile that came with the image (lower layer). Opened
    // read-only it is the lower file; opened for writing it is copied up.
    // Whether a lock taken through the one still excludes through the other
    // depends on the kernel's overlayfs, not on the primitive's documentation.
    if (const std::string lower = lab.fresh_lower_file(); !lower.empty())
        add("excludes_across_copy_up", [&] {
            const std::string id = base + "excludes_across_copy_up";
            json steps = json::array();
            Actor a = lab.spawn();
            const int fd = a.open(lower, O_RDONLY);
            if (fd < 0) throw std::runtime_error(fmt::format("A could not open the lower-layer file {} read-only", lower));
            const OpResult held = a.lock(p, fd);
            steps.push_back(step("A", fmt::format("{} lock on {} opened read-only (not copied up)", p, lower), held));
            if (held.status != OpStatus::ok)
                return unmeasured_fact(id, fmt::format("A cannot take a {} lock through a read-only fd ({}), and opening the file for "
                                                       "writing copies it up first: there is no lower-layer fd to hold it",
                                                       p, held.message),
                                       json{{"steps", steps}});
            const OpResult r = try_from_other(lab, p, lower, steps, "B (opened for writing: copied up)");
            return result(id, r.status == OpStatus::busy, steps);
        });

    for (const Primitive* other : all) {
        const std::string q = other->desc->name;
        if (q == p) continue;
        add("conflicts_with." + q, [&] {
            json steps = json::array();
            Holder h = hold(lab, p, steps);
            const OpResult r = try_from_other(lab, q, h.path, steps);
            return result(base + "conflicts_with." + q, r.status == OpStatus::busy, steps);
        });
    }
}

}  // namespace

void probe_locks(Lab& lab, const std::vector<const Primitive*>& locks, FactSet& out) {
    for (const Primitive* p : locks) measure_one(lab, *p, locks, out);
}

}  // namespace ilk
