// Facts across two hosts on one target: process A on this host, process B on
// another (an agent in other namespaces, or a guest). Each fact is an act of
// both, never a query: does B's lock conflict with A's, does B get it once A
// is SIGKILLed, does B see A's segment key, what does kill(A, 0) say to B.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "fact.h"

namespace ilk {

class AgentHost;
class Lab;
class NfsLab;
struct Primitive;
struct ProbeReport;

// Fact ids: hosts.locks.<P>.excludes_other_host, hosts.locks.<P>.released_on_holder_kill,
// hosts.segments.<S>.key_visible_on_other_host, hosts.process.kill0_sees_other_host.
inline const std::vector<std::string>& host_fact_names() {
    static const std::vector<std::string> names{"excludes_other_host", "released_on_holder_kill", "key_visible_on_other_host",
                                                "kill0_sees_other_host"};
    return names;
}

// Facts across two clients of one shared filesystem (an NFS export mounted on
// two guests at the same `dir`): A on a_host, B on b_host, both agents' actors.
// Fact ids: clients.locks.<P>.excludes_other_client,
// clients.locks.<P>.released_on_holder_kill (A SIGKILLed; its host lives on),
// clients.locks.<P>.conflicts_with.<Q> (A holds P, B tries Q).
void probe_across_clients(AgentHost& a_host, AgentHost& b_host, const std::string& dir, const std::vector<std::string>& locks,
                          FactSet& out);

// The holder's whole client crashes: on each mount, A (on a_host) holds every
// lock primitive of its `locks` on a file of its own, B (on b_host) is kept out;
// then crash_a() kills A's host, and B tries until each is granted or `window`
// passes. Fact: clients.locks.<P>.released_on_client_crash (evidence: ms to
// the grant). Kills a_host: the last act on it.
struct CrashMount {
    std::string dir;
    std::vector<std::string> locks;
    FactSet* out;
};
void probe_client_crash(AgentHost& a_host, AgentHost& b_host, const std::vector<CrashMount>& mounts, const std::function<void()>& crash_a,
                        std::chrono::milliseconds window);

// One network mount in the NFS lab: client A's own probe of the mount (ilk
// probe in that guest: two processes on one client), then the facts across
// the two clients. A mount that failed, or a probe that gave no report, is a
// report whose target says why (`unsupported`).
ProbeReport probe_network_mount(NfsLab& lab, const std::string& name, const std::vector<std::string>& primitives);

void probe_across_hosts(Lab& lab, AgentHost& other, const std::vector<const Primitive*>& locks,
                        const std::vector<const Primitive*>& segments, FactSet& out);

}  // namespace ilk
