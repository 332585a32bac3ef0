// The agent protocol: how the harness drives an `ilk agent` over one byte
// stream (a child's pipes, a Unix socket, a virtio-serial port). JSON lines.
//
// Harness -> agent, a request:   {"id": N, "op": OP, ...arguments}
// Agent -> harness, its reply:   {"id": N, "ok": true, ...results} or {"id": N, "ok": false, "error": TEXT}
// "id" and "op" are the protocol's own: no argument or result has either name
// (a segment's id is "shmid").
// Harness -> agent, no reply:    {"op": "to", "contender": C, "msg": M}   (M goes to contender C's channel)
// Agent -> harness, an event:    {"event": "from", "contender": C, "msg": M}  (C said M)
//                                {"event": "closed", "contender": C, "why": TEXT}
//
// Everything an agent says is data: PIDs are its own namespace's, paths are
// its own view, and nothing it sends makes the harness remove, unmount or
// signal anything on the harness's host.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_number.h"

namespace ilk::agent {

// Bump when a request, a reply or an event changes meaning; the agent refuses
// a hello with another version, naming both.
inline constexpr int kProtocolVersion = 4;

// The operations, with their arguments and results.
namespace op {
inline constexpr std::string_view hello = "hello";            // version -> version, host (nodename), os (sysname), kernel, pid (the agent's own)
inline constexpr std::string_view spawn = "spawn";            // options {free_running, unshare_flags, uid, want_pid, want_parent_pid}
                                                              //   -> contender, pid, start, parent_pid, parent_start
inline constexpr std::string_view to = "to";                  // contender, msg (no reply)
inline constexpr std::string_view close = "close";            // contender
inline constexpr std::string_view alive = "alive";            // pid, start -> alive
inline constexpr std::string_view signal = "signal";          // pid, start, sig (only if still the same process)
inline constexpr std::string_view children = "children";      // pid, start -> children [{pid, start, own_pid}]
inline constexpr std::string_view record = "record";          // kind, what: a resource a contender is about to create
inline constexpr std::string_view reclaim = "reclaim";        // primitive, key, creator
inline constexpr std::string_view plant_process = "plant_process";  // want_pid, uid, attach -> pid, start, handle
inline constexpr std::string_view planted_signal = "planted_signal";  // handle -> sig (0: none)
inline constexpr std::string_view remove_planted = "remove_planted";  // handle
inline constexpr std::string_view plant_segment = "plant_segment";    // key -> shmid (-1: failed, error)
inline constexpr std::string_view segment_intact = "segment_intact";  // shmid -> intact
inline constexpr std::string_view remove_planted_segment = "remove_planted_segment";  // shmid
inline constexpr std::string_view segment_on_key = "segment_on_key";  // key -> found, shmid, creator
// Actors (actor.h) on this host, for probe facts across hosts.
inline constexpr std::string_view actor_spawn = "actor_spawn";  // -> actor, pid, start
inline constexpr std::string_view actor_call = "actor_call";    // actor, request (actor.h as JSON), timeout_ms -> reply
inline constexpr std::string_view actor_kill = "actor_kill";    // actor, sig -> end ("killed by SIGKILL")
inline constexpr std::string_view actor_end = "actor_end";      // actor
// A program on the agent's host, run to its end (the harness's own set-up:
// mounting an NFS export, probing a mount in a guest). No shell: argv as given.
inline constexpr std::string_view exec = "exec";              // argv, timeout_ms -> rc (-1: killed at the timeout), out, err (each at most 256 KiB)
// The files of a trial's data directory (host/files.h): make, read, change, remove.
inline constexpr std::string_view file = "file";              // request -> result
inline constexpr std::string_view bye = "bye";                // the agent ends everything it started and exits
}  // namespace op

// A field of what an agent said, read as data: absent, of another type, or a
// number outside what T holds (a PID of 1e300, a count of -1 for a size), it
// is `fallback`. Nothing an agent says makes the reading throw, or convert
// past a type's range. Text, vectors of text and JSON values are taken as
// they are, when they are of that type.
template <class T>
T said(const nlohmann::json& j, std::string_view key, T fallback) {
    if (!j.is_object()) return fallback;
    const auto it = j.find(key);
    if (it == j.end()) return fallback;
    const nlohmann::json& v = *it;
    if constexpr (std::is_same_v<T, bool>) {
        return v.is_boolean() ? v.get<bool>() : fallback;
    } else if constexpr (std::is_integral_v<T>) {
        return json_number<T>(v).value_or(fallback);
    } else if constexpr (std::is_same_v<T, std::string>) {
        return v.is_string() ? v.get<std::string>() : fallback;
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        if (!v.is_array()) return fallback;
        T out;
        for (const auto& e : v) {
            if (!e.is_string()) return fallback;
            out.push_back(e.get<std::string>());
        }
        return out;
    } else {
        static_assert(std::is_same_v<T, nlohmann::json>, "said<T>: bool, an integer, std::string, a vector of them, or json");
        return v;
    }
}
inline std::string said(const nlohmann::json& j, std::string_view key, const char* fallback) { return said(j, key, std::string(fallback)); }

}  // namespace ilk::agent
