#include "host/guest.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "exec_child.h"
#include "journal.h"

namespace ilk {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// QEMU splits its options at commas; the guest's shell reads paths in single quotes.
void check_path(const fs::path& p, const std::string& what) {
    const std::string s = p.string();
    if (s.find_first_of(",'\n\\") != std::string::npos)
        throw std::runtime_error(fmt::format("{} '{}' has a comma, quote, backslash or newline, which a guest cannot be given: "
                                             "use another directory", what, s));
}

// The last `lines` lines of a log, after the kernel's panic line when there is
// one (the panic's stack would push it out of the tail).
std::string tail_of(const fs::path& file, size_t lines) {
    std::ifstream in(file);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) {
        // Without the console's terminal escapes and carriage returns.
        std::string clean;
        for (size_t i = 0; i < line.size(); ++i) {
            if (line[i] == '\x1b') {
                while (i < line.size() && !std::isalpha(static_cast<unsigned char>(line[i]))) ++i;
                continue;
            }
            if (line[i] != '\r') clean += line[i];
        }
        if (!clean.empty()) all.push_back(clean);
    }
    std::string out;
    size_t from = all.size() > lines ? all.size() - lines : 0;
    for (size_t i = 0; i < all.size(); ++i)
        if (all[i].find("Kernel panic") != std::string::npos) {
            out += "\n    " + all[i];
            from = std::max(from, i + 1);
        }
    for (size_t i = from; i < all.size(); ++i) out += "\n    " + all[i];
    return out;
}

// The guest's command (run by its /init from the 9p share): mount the shared
// directories at their paths, find the virtio-serial port, become the agent.
std::string guest_command(const GuestOptions& o, const fs::path& ilk) {
    std::string s = "set -e\n";
    s += fmt::format("hostname '{}'\n", o.name);
    for (size_t i = 0; i < o.shared.size(); ++i)
        s += fmt::format("mkdir -p '{0}'\nmount -t 9p -o trans=virtio,version=9p2000.L,cache=none dir{1} '{0}'\n", o.shared[i].string(), i);
    s += "ip link set lo up\n";
    for (const GuestLink& l : o.links)
        s += fmt::format("dev=''\nfor a in /sys/class/net/*; do [ \"$(cat \"$a/address\")\" = '{0}' ] && dev=${{a##*/}}; done\n"
                         "[ -n \"$dev\" ] || {{ echo 'no network interface with MAC {0} (virtio_net not loaded?)' >&2; exit 3; }}\n"
                         "ip addr add '{1}' dev \"$dev\"\nip link set \"$dev\" up\n",
                         l.mac, l.address);
    if (!o.setup.empty())
        s += "sh /shared/setup >/shared/setup.log 2>&1 || { rc=$?; echo \"the guest's set-up exited $rc; see setup.log\" >&2; exit 4; }\n";
    s += "port=''\n"
         "for d in /sys/class/virtio-ports/*; do\n"
         "  [ \"$(cat \"$d/name\" 2>/dev/null)\" = ilk.agent ] && port=/dev/${d##*/}\n"
         "done\n"
         "[ -n \"$port\" ] || { echo 'no virtio-serial port named ilk.agent (virtio_console not loaded?)' >&2; exit 3; }\n";
    s += fmt::format("[ -x '{0}' ] || {{ echo 'this image has no {0}: build it with ci/guest/image.sh SERIES --ilk BUILD_DIR' >&2; exit 127; }}\n"
                     "exec '{0}' agent --fd 3 3<>\"$port\"\n",
                     ilk.string());
    return s;
}

bool kvm_usable() {
    const int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    close(fd);
    return true;
}

struct Booted {
    pid_t qemu = -1;
    int stream = -1;
};

// Start QEMU and connect to its agent socket (which it makes at start-up).
Booted start_qemu(const GuestOptions& o, const std::string& accel, const fs::path& run, const Journal& journal) {
    const json manifest = guest_image_manifest(o.image);
    std::vector<std::string> argv{"qemu-system-x86_64", "-name", o.name, "-m", std::to_string(o.memory_mb), "-smp", "1",
                                  "-nographic", "-no-reboot", "-monitor", "none", "-nic", "none",
                                  "-kernel", (o.image / "vmlinuz").string(), "-initrd", (o.image / "initrd.img").string(),
                                  "-append", "console=ttyS0 quiet panic=-1",
                                  "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                                  "-serial", "file:" + (run / "console.log").string(),
                                  "-virtfs", fmt::format("local,path={},mount_tag=shared,security_model=none", (run / "share").string()),
                                  "-chardev", fmt::format("socket,id=agent,path={},server=on,wait=off", (run / "agent.sock").string()),
                                  "-device", "virtio-serial-pci", "-device", "virtserialport,chardev=agent,name=ilk.agent"};
    for (size_t i = 0; i < o.shared.size(); ++i)
        argv.insert(argv.end(), {"-virtfs", fmt::format("local,path={},mount_tag=dir{},security_model=none", o.shared[i].string(), i)});
    for (const auto& [dir, tag] : o.offered)
        argv.insert(argv.end(), {"-virtfs", fmt::format("local,path={},mount_tag={},security_model=none", dir.string(), tag)});
    for (size_t i = 0; i < o.links.size(); ++i)
        argv.insert(argv.end(), {"-netdev", fmt::format("dgram,id=link{},local.type=unix,local.path={},remote.type=unix,remote.path={}", i,
                                                        o.links[i].local.string(), o.links[i].remote.string()),
                                 "-device", fmt::format("virtio-net-pci,netdev=link{},mac={}", i, o.links[i].mac)});
    if (accel == "kvm") argv.insert(argv.end(), {"-accel", "kvm", "-cpu", "host"});
    else argv.insert(argv.end(), {"-accel", "tcg,thread=multi", "-cpu", "max"});
    Booted b;
    b.qemu = exec_child(argv, -1, &journal,
                        {.search_path = true, .die_with_parent = true, .env = {}, .output = (run / "qemu.log").string()});
    const fs::path sock = run / "agent.sock";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
        int status = 0;
        if (waitpid(b.qemu, &status, WNOHANG) == b.qemu) {
            b.qemu = -1;
            throw std::runtime_error(fmt::format("QEMU for guest {} exited at once:{}", o.name, tail_of(run / "qemu.log", 8)));
        }
        const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
            b.stream = fd;
            return b;
        }
        if (fd >= 0) close(fd);
        if (std::chrono::steady_clock::now() > deadline) {
            kill(b.qemu, SIGKILL);
            waitpid(b.qemu, nullptr, 0);
            throw std::runtime_error(fmt::format("QEMU for guest {} made no agent socket within 20 s:{}", o.name, tail_of(run / "qemu.log", 8)));
        }
        std::this_thread::sleep_for(20ms);
    }
}

}  // namespace

json guest_image_manifest(const fs::path& image) {
    for (const char* f : {"vmlinuz", "initrd.img", "manifest.json"})
        if (!fs::is_regular_file(image / f))
            throw std::runtime_error(fmt::format("{} is not a guest image (no {}): make one with ci/guest/image.sh 6.1 --ilk BUILD_DIR, "
                                                 "which prints its directory", image.string(), f));
    std::ifstream in(image / "manifest.json");
    json m = json::parse(in, nullptr, false);
    if (!m.is_object() || !m.contains("kernel_release"))
        throw std::runtime_error(fmt::format("{}: not a manifest of ci/guest/image.sh (no kernel_release); rebuild the image",
                                             (image / "manifest.json").string()));
    return m;
}

fs::path ilk_in_guest() {
    // The image holds ilk at the path it had here when the image was made; a
    // binary replaced since (a rebuild during a run) reads "PATH (deleted)".
    std::string exe = fs::read_symlink("/proc/self/exe").string();
    if (constexpr std::string_view deleted = " (deleted)"; exe.ends_with(deleted)) exe.resize(exe.size() - deleted.size());
    return exe;
}

namespace {

// One guest on its way up: checked, its run directory and command written,
// its QEMU started with tries[next - 1].
struct Pending {
    GuestOptions o;
    Guest g;
    std::vector<std::string> tries;
    size_t next = 0;
    Booted b;
    std::string why;
};

Pending prepare_guest(const GuestOptions& o, const Journal& journal) {
    if (o.name.empty() || o.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != std::string::npos)
        throw std::runtime_error(fmt::format("guest name '{}': use letters, digits, '.', '_' and '-'", o.name));
    check_path(o.image, "guest image");
    for (const fs::path& d : o.shared) {
        check_path(d, "shared directory");
        if (!d.is_absolute() || !fs::is_directory(d))
            throw std::runtime_error(fmt::format("shared directory '{}' for guest {} is not an absolute path of a directory", d.string(), o.name));
    }
    for (const auto& [dir, tag] : o.offered) {
        check_path(dir, "offered directory");
        if (tag.empty() || tag.size() > 31 || tag.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos)
            throw std::runtime_error(fmt::format("9p tag '{}' of guest {}: use 1 to 31 lower-case letters and digits", tag, o.name));
    }
    for (const GuestLink& l : o.links) {
        check_path(l.local, "link socket");
        check_path(l.remote, "link socket");
        if (std::max(l.local.string().size(), l.remote.string().size()) >= sizeof(sockaddr_un::sun_path))
            throw std::runtime_error(fmt::format("link socket {} of guest {} is too long for a Unix socket: set TMPDIR to a shorter path",
                                                 l.local.string(), o.name));
        if (l.mac.find_first_not_of("0123456789abcdef:") != std::string::npos || l.address.find_first_not_of("0123456789./") != std::string::npos)
            throw std::runtime_error(fmt::format("link of guest {}: MAC '{}' or address '{}' is not of the form 52:54:00:.. and a.b.c.d/n",
                                                 o.name, l.mac, l.address));
    }
    Pending p;
    p.o = o;
    p.g.manifest = guest_image_manifest(o.image);
    // The run directory: inside the journal's scratch (ours alone, removed with it).
    p.g.run_dir = journal.scratch() / fmt::format("guest-{}", o.name);
    check_path(p.g.run_dir, "run directory");
    fs::create_directories(p.g.run_dir / "share");
    fs::permissions(p.g.run_dir, fs::perms::owner_all);
    if (p.g.run_dir.string().size() + 12 >= sizeof(sockaddr_un::sun_path))
        throw std::runtime_error(fmt::format("the run directory {} is too long for a Unix socket: set TMPDIR to a shorter path", p.g.run_dir.string()));
    const fs::path ilk = ilk_in_guest();
    check_path(ilk, "ilk binary");
    {
        std::ofstream cmd(p.g.run_dir / "share" / "cmd");
        cmd << guest_command(o, ilk);
    }
    if (!o.setup.empty()) {
        std::ofstream setup(p.g.run_dir / "share" / "setup");
        setup << o.setup;
    }
    if (o.accel == "kvm" || (o.accel == "auto" && kvm_usable())) p.tries.push_back("kvm");
    if (o.accel != "kvm") p.tries.push_back("tcg");
    return p;
}

void launch(Pending& p, const Journal& journal) {
    fs::remove(p.g.run_dir / "agent.sock");
    for (const GuestLink& l : p.o.links) fs::remove(l.local);
    p.b = start_qemu(p.o, p.tries[p.next++], p.g.run_dir, journal);
}

// Wait for its hello; on failure the next accelerator, else throw.
Guest finish(Pending& p, const Journal& journal) {
    for (;;) {
        const std::string& accel = p.tries[p.next - 1];
        // A KVM that cannot boot this kernel hangs or aborts early: a shorter wait before TCG.
        const auto wait = accel == "kvm" && p.next < p.tries.size() ? std::chrono::milliseconds(30s) : std::chrono::milliseconds(p.o.boot_timeout);
        try {
            const Booted b = std::exchange(p.b, Booted{});
            p.g.agent = std::make_unique<AgentHost>(p.o.name, b.stream, b.qemu, wait, 60s);
            p.g.accel = accel;
            return std::move(p.g);
        } catch (const std::exception& e) {
            p.why += fmt::format("{}with {}: {}; its console:{}", p.why.empty() ? "" : "; ", accel, e.what(), tail_of(p.g.run_dir / "console.log", 12));
            const std::string err = tail_of(p.g.run_dir / "share" / "err", 5);
            if (!err.empty()) p.why += "\n  the guest's command said:" + err;
            const std::string setup = tail_of(p.g.run_dir / "share" / "setup.log", 8);
            if (!setup.empty()) p.why += "\n  its set-up's output ended:" + setup;
        }
        if (p.next >= p.tries.size())
            throw std::runtime_error(fmt::format("guest {} ({}, kernel {}) did not start its agent: {}", p.o.name, p.o.image.string(),
                                                 p.g.manifest.value("kernel_release", "?"), p.why));
        launch(p, journal);
    }
}

// A started QEMU whose agent was never taken over (another guest failed first).
void abandon(Pending& p) {
    if (p.b.qemu > 0) {
        kill(p.b.qemu, SIGKILL);
        waitpid(p.b.qemu, nullptr, 0);
    }
    if (p.b.stream >= 0) close(p.b.stream);
    p.b = {};
}

}  // namespace

Guest boot_guest(const GuestOptions& o, const Journal& journal) { return std::move(boot_guests({o}, journal).front()); }

std::vector<Guest> boot_guests(const std::vector<GuestOptions>& options, const Journal& journal) {
    std::vector<Pending> pending;
    for (const GuestOptions& o : options) pending.push_back(prepare_guest(o, journal));
    std::vector<Guest> up;
    try {
        for (Pending& p : pending) launch(p, journal);
        for (Pending& p : pending) up.push_back(finish(p, journal));
    } catch (...) {
        for (Pending& p : pending) abandon(p);
        throw;  // `up` ends its guests as it goes
    }
    return up;
}

}  // namespace ilk
