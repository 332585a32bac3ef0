#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ilk {

// What the nfs-* scenarios do to the lab of a network mount (host/nfs.h): its
// server, and the clients the contenders run on (0: A's, 1: B's). Each act
// returns a line for the transcript; one that cannot be done here throws
// UnsupportedHere (a 9p mount has no NFS server to restart) or
// std::runtime_error (the lab failed).
class LabControl {
public:
    virtual ~LabControl() = default;
    virtual std::string mount() const = 0;
    virtual std::chrono::seconds lease() const = 0;  // the server's NFSv4 lease, and its grace period
    // Stop the server's NFS service and start it again: NFSv4 clients find out
    // by themselves and reclaim their locks in its grace period; NFSv3 (NLM)
    // clients reclaim only when told, by sm-notify (`notify`). lose_state: what
    // the server recorded of its clients (statd's monitor list, nfsdcld's
    // database) is wiped in between, as on a server that lost its disk.
    virtual std::string restart_server(bool notify, bool lose_state) = 0;
    virtual std::string set_link(int client, bool up) = 0;  // the client's only link to the server
    virtual std::string set_recover_lost_locks(int client, bool on) = 0;  // nfs.recover_lost_locks
    // Its kernel's log lines since mark_kernel_logs (both clients), or since it booted.
    virtual void mark_kernel_logs() = 0;
    virtual std::vector<std::string> kernel_log(int client) = 0;
    // The client's whole guest killed at once (its processes, its kernel's
    // NFS state), and booted again with every mount back.
    virtual std::string crash_client(int client) = 0;
    virtual std::string reboot_client(int client) = 0;
    // After each trial: every link up, every setting back to the lab's own, a
    // crashed client booted again (a trial's changes never reach the next one).
    virtual void restore() = 0;
};

}  // namespace ilk
