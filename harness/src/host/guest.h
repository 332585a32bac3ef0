// A QEMU guest as a host of a run: the image from ci/guest/image.sh (a Debian
// kernel, a busybox initramfs, this build's ilk at the same paths) boots with
// `ilk agent` on a virtio-serial port, which the harness reaches through a
// Unix socket in the guest's run directory. No network: directories are
// shared over 9p, mounted in the guest at the same paths as here.
//
// The QEMU process is journaled (a crashed run's next clean ends it) and dies
// with the thread that started it; its run directory (socket, console log,
// the guest's command) is in the journal's scratch directory. What the guest
// says is data (AgentHost).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "host/agent_host.h"

namespace ilk {

class Journal;

// A point-to-point network link to another guest: a QEMU `-netdev dgram` over
// two Unix datagram sockets in the run's scratch (no host networking, no TCP
// port). The guest's interface with `mac` gets `address` (CIDR).
struct GuestLink {
    std::filesystem::path local, remote;  // this guest's socket, the peer's
    std::string mac;                      // 52:54:00:xx:xx:xx, unique per run
    std::string address;                  // "10.0.1.2/24"
};

struct GuestOptions {
    std::string name = "guest";             // letters, digits, '.', '_' and '-': its hostname and QEMU's -name
    std::filesystem::path image;            // vmlinuz, initrd.img, manifest.json
    std::vector<std::filesystem::path> shared;  // host directories the guest mounts at the same paths (9p)
    // Host directories offered over 9p under a tag, which the guest mounts
    // itself (its options are the caller's): {directory, tag}.
    std::vector<std::pair<std::filesystem::path, std::string>> offered;
    int memory_mb = 256;
    std::chrono::seconds boot_timeout{180};  // until its agent answers (TCG boots take 6-25 s here)
    std::string accel = "auto";              // "kvm", "tcg", or "auto": KVM when /dev/kvm can be opened, else TCG
    std::vector<GuestLink> links;
    // Shell run as root in the guest before its agent starts (an NFS server's
    // daemons); its output is the guest's run_dir/share/setup.log. When it
    // fails the guest does not come up, and the error quotes that log.
    std::string setup;
};

struct Guest {
    std::unique_ptr<AgentHost> agent;  // ending it ends the guest (bye, then QEMU is killed)
    std::string accel;                 // "kvm" or "tcg": what it booted with
    nlohmann::json manifest;           // the image's
    std::filesystem::path run_dir;     // console.log, agent.sock, share/ (in the journal's scratch)
};

// Where a guest's image holds ilk: this binary's path (image.sh --ilk copies
// the build there), also when the file here was replaced since.
std::filesystem::path ilk_in_guest();

// Boot the guest and say hello to its agent. Throws std::runtime_error naming
// the guest and the cause (with the tail of its console) when it does not
// answer in time or dies; nothing of it is left then.
Guest boot_guest(const GuestOptions& options, const Journal& journal);
// Several guests booting at once (their QEMUs all start before the first hello
// is awaited); the guests in the order given. Any that does not come up ends
// them all and throws as above.
std::vector<Guest> boot_guests(const std::vector<GuestOptions>& options, const Journal& journal);

// What the image is (its manifest.json: kernel release, packages); throws
// naming the image directory and the fix when it is not one.
nlohmann::json guest_image_manifest(const std::filesystem::path& image);

}  // namespace ilk
