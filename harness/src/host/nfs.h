// An NFS lab: one server guest running kernel nfsd (and nfs-ganesha on an
// address and port of its own, when a mount asks for it), two client guests that
// mount its exports at the same paths (and host directories offered to both
// over virtio-9p, for host-9p mounts), linked by point-to-point `-netdev
// dgram` links (server 10.0.1.1 <-> client A 10.0.1.2, server 10.0.2.1 <->
// client B 10.0.2.2). What is exported and how it is mounted comes from the
// network mounts of plugins (nfs-mounts); the lab does it through the guests'
// agents. Everything lives in the journal's scratch and ends with the guests.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/guest.h"
#include "host/lab_control.h"

namespace ilk {

class Journal;
struct NetworkMountDescriptor;

struct NfsMount {
    std::string name;     // the network mount's ("nfs4.2")
    std::string dir;      // where both clients mounted it
    std::string server;   // kernel-nfsd, nfs-ganesha or host-9p
    std::string export_path, export_options, asked;  // on the server; the options asked for
    std::string applied;  // the options in the clients' /proc/mounts (client A's; B's if they differ, in `note`)
    std::string fstype;   // nfs or nfs4, as /proc/mounts says
    std::string error;    // non-empty: not mounted, and why (mount.nfs's words)
    std::string note;
    double ready_s = 0;   // until a first lock was granted on client A (the server's grace period)
};

class NfsLab {
public:
    // Boot the server and both clients and mount every one of `mounts` on both.
    // Throws naming the guest when one does not come up; a mount that fails is
    // recorded in its NfsMount and the others stand.
    NfsLab(const std::filesystem::path& image, const std::vector<const NetworkMountDescriptor*>& mounts, const Journal& journal,
           std::chrono::seconds boot_timeout);

    AgentHost& client(int i) { return *guests_.at(1 + i).agent; }  // 0: A, 1: B
    const NfsMount& mount(const std::string& name) const { return mounts_.at(name); }
    // For a probe report's target: the server, both clients, the mount.
    nlohmann::json describe(const std::string& name) const;
    // What the nfs-* scenarios do to the lab, for one of its mounts.
    std::unique_ptr<LabControl> control(const std::string& name);
    // Boot client c (0: A, 1: B) again after its guest was killed, and mount
    // every mount on it again. client(c) stays the same object: what held it
    // holds the new boot (whose processes are not the old boot's).
    void reboot_client(int c);

private:
    friend class NfsLabControl;
    std::string mount_on(int client, const NetworkMountDescriptor& m, std::string* applied);
    std::vector<GuestOptions> options_;  // server, A, B: for a reboot
    const Journal* journal_ = nullptr;
    std::vector<const NetworkMountDescriptor*> descriptors_;
    std::map<std::string, std::string> tag_of_;  // host-9p mounts: their 9p tag
    std::vector<Guest> guests_;
    std::map<std::string, NfsMount> mounts_;
    std::map<std::string, std::filesystem::path> host_dirs_;  // host-9p mounts: the directory offered
    double boot_seconds_ = 0;
};

}  // namespace ilk
