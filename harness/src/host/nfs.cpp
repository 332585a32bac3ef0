#include "host/nfs.h"

#include <fcntl.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ilk/plugin.h"
#include "engine/trial.h"
#include "journal.h"

namespace ilk {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kMountRoot = "/mnt/ilk";

bool is_knfsd(const NetworkMountDescriptor& m) { return std::string_view(m.server) == "kernel-nfsd"; }
bool is_ganesha(const NetworkMountDescriptor& m) { return std::string_view(m.server) == "nfs-ganesha"; }
bool is_nfs(const NetworkMountDescriptor& m) { return is_knfsd(m) || is_ganesha(m); }

// nfs-ganesha listens on an address of its own that both clients route to
// through their links (the server answers on any of its addresses), on its own
// port: kernel nfsd keeps 2049 on every address.
constexpr const char* kGaneshaAddress = "10.0.3.1";
constexpr int kGaneshaPort = 2050;

// Each client's one link to the server: its MAC, and the server's address on it.
constexpr const char* kClientMac[2] = {"52:54:00:00:01:02", "52:54:00:00:02:02"};
constexpr const char* kServerAddress[2] = {"10.0.1.1", "10.0.2.1"};
constexpr std::chrono::seconds kLease{10};  // nfsd's lease and grace, lockd's grace, nfs-ganesha's too

// nfs-ganesha's configuration: NFSv4 only, no NLM, the lab's lease and grace,
// one EXPORT per mount (its key=value options as EXPORT keys). Started before
// rpc.nfsd, whose rpcbind registrations then stand.
std::string ganesha_setup(const std::vector<const NetworkMountDescriptor*>& mounts) {
    std::string exports;
    for (size_t i = 0; i < mounts.size(); ++i) {
        if (!is_ganesha(*mounts[i])) continue;
        std::string keys;
        std::istringstream in(mounts[i]->export_options);
        for (std::string kv; std::getline(in, kv, ',');)
            if (const size_t eq = kv.find('='); eq != std::string::npos) keys += fmt::format(" {} = {};", kv.substr(0, eq), kv.substr(eq + 1));
        exports += fmt::format("mkdir -p '/export/{0}'\n"
                               "echo 'EXPORT {{ Export_Id = {1}; Path = \"/export/{0}\"; Pseudo = \"/{0}\"; Protocols = 4;{2} "
                               "FSAL {{ Name = VFS; }} }}' >>/run/ganesha.conf\n",
                               mounts[i]->name, i + 1, keys);
    }
    if (exports.empty()) return {};
    return fmt::format(
        "ip addr add {0}/32 dev lo\n"
        "mkdir -p /var/lib/nfs/ganesha\n"
        "printf '[General]\\nDomain = localdomain\\n[Mapping]\\nNobody-User = nobody\\nNobody-Group = nogroup\\n[Translation]\\nMethod = nsswitch\\n' "
        ">/etc/idmapd.conf\n"
        "echo 'NFS_CORE_PARAM {{ Protocols = 4; NFS_Port = {1}; Bind_addr = {0}; Enable_NLM = false; Enable_RQUOTA = false; "
        "Plugins_Dir = \"/usr/lib/x86_64-linux-gnu/ganesha\"; }}' >/run/ganesha.conf\n"
        "echo 'NFSV4 {{ Lease_Lifetime = {3}; Grace_Period = {3}; }}' >>/run/ganesha.conf\n"
        "echo 'LOG {{ Default_Log_Level = EVENT; }}' >>/run/ganesha.conf\n"
        "{2}"
        "ganesha.nfsd -f /run/ganesha.conf -L /run/ganesha.log -p /run/ganesha.pid\n"
        "i=0\n"
        "until grep -q 'NFS SERVER INITIALIZED' /run/ganesha.log 2>/dev/null; do\n"
        "  i=$((i + 1))\n"
        "  if [ $i -ge 30 ]; then tail -n 20 /run/ganesha.log; echo 'nfs-ganesha did not start' >&2; exit 1; fi\n"
        "  sleep 1\n"
        "done\n",
        kGaneshaAddress, kGaneshaPort, exports, kLease.count());
}

// The server guest: kernel nfsd exporting a tmpfs, one export per network
// mount, in the start order nfs-utils wants (rpcbind, statd, exports, mountd,
// nfsdcld, nfsd). Short grace and lease times keep hand-overs quick; nfsdcld
// must be the client tracker (a silent fall-back would change what a server
// restart keeps).
std::string server_setup(const std::vector<const NetworkMountDescriptor*>& mounts) {
    std::string s =
        "set -e\n"
        "modprobe lockd nlm_grace_period=" + std::to_string(kLease.count()) + "\n"
        "modprobe nfsd\n"
        "mount -t nfsd nfsd /proc/fs/nfsd\n"
        "mkdir -p /export /run/rpcbind\n"
        "mount -t tmpfs -o size=64m,mode=0755 tmpfs /export\n"
        ": >/etc/exports\n";
    for (size_t i = 0; i < mounts.size(); ++i)
        if (is_knfsd(*mounts[i]))
            s += fmt::format("mkdir -p '/export/{0}'\necho '/export/{0} 10.0.0.0/16({1},fsid={2})' >>/etc/exports\n", mounts[i]->name,
                             mounts[i]->export_options, i + 1);
    s += fmt::format("printf '[nfsd]\\ngrace-time={0}\\nlease-time={0}\\n' >/etc/nfs.conf\n", kLease.count());
    s += "rpcbind -w\n"
         "rpc.statd\n"
         "exportfs -ra\n"
         "rpc.mountd\n";
    s += ganesha_setup(mounts);
    s += "mount -t rpc_pipefs rpc_pipefs /var/lib/nfs/rpc_pipefs\n"
         "nfsdcld -F >/run/nfsdcld.log 2>&1 &\n"
         "sleep 1\n"
         "rpc.nfsd 8\n"
         "i=0\n"
         "until dmesg | grep -q 'Using nfsdcld client tracking'; do\n"
         "  i=$((i + 1))\n"
         "  if [ $i -ge 20 ]; then dmesg | grep -i nfsd; cat /run/nfsdcld.log; echo 'nfsd is not using nfsdcld client tracking' >&2; exit 1; fi\n"
         "  sleep 1\n"
         "done\n"
         "echo \"lease $(cat /proc/fs/nfsd/nfsv4leasetime) s; versions $(cat /proc/fs/nfsd/versions)\"\n"
         "cat /etc/exports\n";
    return s;
}

// A client: NFSv3 locking needs its own rpcbind and statd; nfs-ganesha's
// address is reached through the client's link to the server.
// The clients boot alike, so their PIDs would run alike: a PID of client A
// could name a live process on client B (a kernel worker, say), and a
// strategy's kill(pid, 0) there would find it alive and refuse by accident,
// a verdict that changes from run to run. Each client's PIDs are counted
// from a base of its own (pid_base, far apart), so that a PID of one names
// nothing on the other, as on two hosts whose PIDs do not happen to meet.
std::string client_setup(const std::string& server_address, long pid_base) {
    return fmt::format("set -e\n"
                       "modprobe nfsv3\n"
                       "modprobe nfsv4\n"
                       "ip route add {}/32 via {}\n"
                       "mkdir -p /run/rpcbind\n"
                       "rpcbind -w\n"
                       "rpc.statd\n"
                       "echo 4194304 >/proc/sys/kernel/pid_max\n"
                       "echo {} >/proc/sys/kernel/ns_last_pid\n",
                       kGaneshaAddress, server_address, pid_base);
}

std::string first_line(const std::string& s) {
    std::string line = s.substr(0, s.find('\n'));
    return line.empty() ? s : line;
}

// The /proc/mounts line for `dir`: fstype and options.
std::pair<std::string, std::string> mounted_at(const std::string& proc_mounts, const std::string& dir) {
    std::istringstream in(proc_mounts);
    std::pair<std::string, std::string> found;
    for (std::string line; std::getline(in, line);) {
        std::istringstream f(line);
        std::string source, where, type, options;
        if (f >> source >> where >> type >> options && where == dir) found = {type, options};  // the last one wins, as in the kernel
    }
    return found;
}

// The server refuses new locks during its grace period after it starts (NLM
// and NFSv4 alike: nfsd asks locks_in_grace(), which lockd's grace keeps true):
// take a blocking fcntl lock on `file` from `client`, so the probes start after
// it. Empty when granted, else what happened.
std::string wait_for_first_lock(AgentHost& client, const std::string& file) {
    const AgentHost::RemoteActor a = client.actor_spawn();
    ActorRequest open{ActorCmd::open_file};
    open.arg = O_RDWR | O_CREAT;
    std::snprintf(open.path, sizeof open.path, "%s", file.c_str());
    const ActorReply opened = client.actor_call(a, open, 10s);
    std::string why;
    if (opened.result.status != OpStatus::ok) {
        why = fmt::format("open: {}", opened.result.message);
    } else {
        ActorRequest lock{ActorCmd::lock};
        lock.fd = static_cast<std::int32_t>(opened.value);
        lock.arg = 1;  // wait
        std::snprintf(lock.primitive, sizeof lock.primitive, "fcntl");
        const ActorReply got = client.actor_call(a, lock, 60s);
        if (got.result.status != OpStatus::ok) why = fmt::format("fcntl F_SETLKW: {}", got.result.message);
    }
    client.actor_end(a);
    return why;
}

}  // namespace

NfsLab::NfsLab(const fs::path& image, const std::vector<const NetworkMountDescriptor*>& mounts, const Journal& journal,
               std::chrono::seconds boot_timeout) {
    const auto t0 = std::chrono::steady_clock::now();
    const fs::path links = journal.scratch() / "links";
    fs::create_directories(links);
    fs::permissions(links, fs::perms::owner_all);
    GuestOptions server, a, b;
    server.name = "nfs-server";
    a.name = "nfs-client-a";
    b.name = "nfs-client-b";
    for (GuestOptions* o : {&server, &a, &b}) {
        o->image = image;
        o->boot_timeout = boot_timeout;
    }
    server.links = {{links / "server-a", links / "client-a", "52:54:00:00:01:01", "10.0.1.1/24"},
                    {links / "server-b", links / "client-b", "52:54:00:00:02:01", "10.0.2.1/24"}};
    a.links = {{links / "client-a", links / "server-a", kClientMac[0], "10.0.1.2/24"}};
    b.links = {{links / "client-b", links / "server-b", kClientMac[1], "10.0.2.2/24"}};
    server.setup = server_setup(mounts);
    a.setup = client_setup(kServerAddress[0], 1'000'000);
    b.setup = client_setup(kServerAddress[1], 2'000'000);
    // host-9p mounts: a directory of ours, offered to both clients under one tag each.
    for (const NetworkMountDescriptor* m : mounts) {
        if (is_nfs(*m)) continue;
        const std::string tag = fmt::format("ilk9p{}", tag_of_.size());
        const fs::path dir = journal.scratch() / fmt::format("9p-{}", tag_of_.size());
        fs::create_directories(dir);
        for (GuestOptions* o : {&a, &b}) o->offered.emplace_back(dir, tag);
        tag_of_[m->name] = tag;
        host_dirs_[m->name] = dir;
    }
    options_ = {server, a, b};
    journal_ = &journal;
    descriptors_ = mounts;
    guests_ = boot_guests(options_, journal);
    boot_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    for (const NetworkMountDescriptor* m : mounts) {
        NfsMount& nm = mounts_[m->name];
        nm.name = m->name;
        nm.dir = fmt::format("{}/{}", kMountRoot, m->name);
        nm.export_path = is_nfs(*m) ? fmt::format("/export/{}", m->name) : host_dirs_.at(m->name).string();
        nm.export_options = m->export_options;
        nm.server = m->server;
        nm.asked = m->mount_options;
        std::vector<std::string> applied;
        for (int c = 0; c < 2 && nm.error.empty(); ++c) {
            std::string options;
            nm.error = mount_on(c, *m, &options);
            applied.push_back(options);
        }
        if (nm.error.empty()) {
            // The server refuses new locks in its grace period (NLM, NFSv4) after
            // it starts: wait it out once, with a lock taken and dropped on
            // client A, so that no probe step times out on it.
            const auto w0 = std::chrono::steady_clock::now();
            const std::string waited = wait_for_first_lock(client(0), nm.dir + "/.ilk-lab-ready");
            nm.ready_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
            if (!waited.empty())
                nm.note = fmt::format("a first lock on {} was not granted within 60 s ({}); probes may meet the server's grace period",
                                      nm.dir, waited);
            nm.applied = applied.at(0);
            // The clients differ in their own addresses only (clientaddr=, addr=, mountport=): other differences are noted.
            auto without_addresses = [](const std::string& o) {
                std::string out;
                std::istringstream in(o);
                for (std::string opt; std::getline(in, opt, ',');)
                    if (opt.rfind("clientaddr=", 0) != 0 && opt.rfind("addr=", 0) != 0 && opt.rfind("mountaddr=", 0) != 0) out += opt + ",";
                return out;
            };
            if (without_addresses(applied.at(1)) != without_addresses(applied.at(0)))
                nm.note += fmt::format("{}{} applied other options: {}", nm.note.empty() ? "" : "; ", this->client(1).name(), applied.at(1));
        }
    }
}

// Mount `m` on client c; the options /proc/mounts shows. Empty, or what went wrong.
std::string NfsLab::mount_on(int c, const NetworkMountDescriptor& m, std::string* applied) {
    NfsMount& nm = mounts_.at(m.name);
    AgentHost& client = this->client(c);
    const std::string source = is_knfsd(m)     ? fmt::format("{}:{}", kServerAddress[c], nm.export_path)
                               : is_ganesha(m) ? fmt::format("{}:/{}", kGaneshaAddress, m.name)
                                               : tag_of_.at(m.name);
    const std::vector<std::string> mount = is_nfs(m) ? std::vector<std::string>{"mount.nfs", source, nm.dir, "-o", m.mount_options}
                                                     : std::vector<std::string>{"mount", "-t", "9p", "-o", m.mount_options, source, nm.dir};
    AgentHost::Ran r = client.exec({"mkdir", "-p", nm.dir}, 10s);
    if (r.rc == 0) r = client.exec(mount, 120s);
    if (r.rc != 0)
        return fmt::format("{} on {} exited {}: {}", fmt::join(mount, " "), client.name(), r.rc, first_line(r.err.empty() ? r.out : r.err));
    const auto [type, options] = mounted_at(client.exec({"cat", "/proc/mounts"}, 10s).out, nm.dir);
    if (type.empty())
        return fmt::format("{} said it mounted {} on {}, but {}'s /proc/mounts has no such mount", mount[0], source, nm.dir, client.name());
    nm.fstype = type;
    *applied = options;
    return {};
}

void NfsLab::reboot_client(int c) {
    Guest fresh = boot_guest(options_.at(1 + c), *journal_);
    Guest& g = guests_.at(1 + c);
    g.agent->take_over(*fresh.agent);  // the same host to everyone holding it, on its new boot
    g.accel = fresh.accel;
    g.run_dir = fresh.run_dir;
    for (const NetworkMountDescriptor* m : descriptors_) {
        if (!mounts_.at(m->name).error.empty()) continue;
        std::string options;
        if (std::string why = mount_on(c, *m, &options); !why.empty())
            throw std::runtime_error(fmt::format("{} after its reboot: {}", client(c).name(), why));
    }
}

json NfsLab::describe(const std::string& name) const {
    const NfsMount& m = mounts_.at(name);
    auto guest_json = [&](int i) {
        const Guest& g = guests_.at(i);
        return json{{"name", g.agent->name()}, {"kernel", g.agent->hello().value("kernel", "")}, {"accel", g.accel},
                    {"image_key", g.manifest.value("key", "")}};
    };
    json mount{{"dir", m.dir}, {"asked", m.asked}, {"fstype", m.fstype}, {"applied", m.applied},
               {"first_lock_s", std::round(m.ready_s * 10) / 10}};
    if (!m.error.empty()) mount["error"] = m.error;
    if (!m.note.empty()) mount["note"] = m.note;
    const json server = host_dirs_.count(name)
                            ? json{{"implementation", "host-9p"}, {"export", m.export_path},
                                   {"network", "virtio-9p: QEMU serves the host directory to each client guest"}}
                            : json{{"guest", guest_json(0)}, {"implementation", m.server}, {"export", m.export_path},
                                   {"export_options", m.export_options},
                                   {"network", "point-to-point -netdev dgram links over Unix sockets"}};
    return json{{"kind", host_dirs_.count(name) ? "9p" : "nfs"},
                {"server", server},
                {"clients", json::array({guest_json(1), guest_json(2)})},
                {"mount", mount},
                {"lab_boot_s", std::round(boot_seconds_ * 10) / 10}};
}

// The lab as the nfs-* scenarios act on it. Every act is a short shell script
// run by an agent: the server's for its NFS service, a client's for its link
// and settings. What it changed is undone by restore() after each trial.
class NfsLabControl : public LabControl {
public:
    NfsLabControl(NfsLab& lab, std::string mount) : lab_(lab), mount_(std::move(mount)) {}
    ~NfsLabControl() override {
        try {
            restore();
        } catch (const std::exception&) {  // the lab is gone: so is what was changed in it
        }
    }

    std::string mount() const override { return mount_; }
    std::chrono::seconds lease() const override { return kLease; }

    std::string restart_server(bool notify, bool lose_state) override {
        const NfsMount& m = lab_.mounts_.at(mount_);
        if (m.server == "host-9p")
            throw UnsupportedHere(fmt::format("{} is served by QEMU's 9p server: there is no NFS service to restart", mount_));
        if (m.server != "kernel-nfsd")
            throw UnsupportedHere(fmt::format("{} is served by {}: only kernel nfsd's restart is staged", mount_, m.server));
        // rpc.nfsd 0 stops nfsd, and with it the server's lockd, which drops
        // every NLM lock it granted; NFSv4 state goes with nfsd.
        std::string script = "set -e\nrpc.nfsd 0\n";
        if (lose_state)
            script += "kill $(pidof rpc.statd) $(pidof nfsdcld) 2>/dev/null || true\n"
                      "sleep 1\n"
                      "rm -rf /var/lib/nfs/sm/* /var/lib/nfs/sm.bak/* /var/lib/nfs/nfsdcld/*\n"
                      "rpc.statd --no-notify\n"
                      "nfsdcld -F >>/run/nfsdcld.log 2>&1 &\n"
                      "sleep 1\n";
        script += "rpc.nfsd 8\n";
        if (notify) script += "sm-notify -f\n";
        run(server(), script, "restart the NFS server");
        return fmt::format("the NFS server restarted: rpc.nfsd 0, {}rpc.nfsd 8, {}", lose_state ? "statd's and nfsdcld's records wiped, " : "",
                           notify ? "sm-notify -f (NLM clients are told to reclaim)" : "no sm-notify (NLM clients are not told)");
    }

    std::string set_link(int client, bool up) override {
        link_down_[client] = !up;
        std::string script = fmt::format(
            "set -e\ndev=''\nfor a in /sys/class/net/*; do [ \"$(cat \"$a/address\")\" = '{0}' ] && dev=${{a##*/}}; done\n"
            "[ -n \"$dev\" ] || {{ echo 'no interface with MAC {0}' >&2; exit 1; }}\n"
            "ip link set \"$dev\" {1}\n",
            kClientMac[client], up ? "up" : "down");
        // The route to nfs-ganesha's address goes with the link: put it back.
        if (up) script += fmt::format("ip route replace {}/32 via {}\n", kGaneshaAddress, kServerAddress[client]);
        run(lab_.client(client), script, fmt::format("take the link {}", up ? "up" : "down"));
        return fmt::format("{}'s link to the server {}", lab_.client(client).name(), up ? "up again" : "down");
    }

    std::string set_recover_lost_locks(int client, bool on) override {
        recover_set_[client] = on;
        run(lab_.client(client), fmt::format("echo {} >/sys/module/nfs/parameters/recover_lost_locks\n", on ? 1 : 0),
            "set nfs.recover_lost_locks");
        return fmt::format("{}: nfs.recover_lost_locks={}", lab_.client(client).name(), on ? 1 : 0);
    }

    std::vector<std::string> dmesg(int client) {
        const AgentHost::Ran r = lab_.client(client).exec({"dmesg"}, 20s);
        std::vector<std::string> lines;
        std::istringstream in(r.out);
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        return lines;
    }

    void mark_kernel_logs() override {
        for (int client : {0, 1}) log_mark_[client] = dmesg(client).size();
    }

    std::vector<std::string> kernel_log(int client) override {
        std::vector<std::string> lines = dmesg(client);
        const size_t mark = lines.size() < log_mark_[client] ? 0 : log_mark_[client];  // the ring wrapped
        return {lines.begin() + static_cast<long>(mark), lines.end()};
    }

    std::string crash_client(int client) override {
        crashed_[client] = true;
        lab_.client(client).crash();
        return fmt::format("{}'s guest killed (SIGKILL to its QEMU)", lab_.client(client).name());
    }

    std::string reboot_client(int client) override {
        const auto t0 = std::chrono::steady_clock::now();
        lab_.reboot_client(client);
        crashed_[client] = false;
        link_down_[client] = false;
        recover_set_[client] = false;
        log_mark_[client] = 0;
        return fmt::format("{} booted again in {:.1f} s (its statd tells the server it rebooted), every mount back",
                           lab_.client(client).name(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }

    void restore() override {
        for (int c = 0; c < 2; ++c) {
            if (crashed_[c]) reboot_client(c);
            if (link_down_[c]) set_link(c, true);
            if (recover_set_[c]) set_recover_lost_locks(c, false);
        }
    }

private:
    AgentHost& server() { return *lab_.guests_.at(0).agent; }
    static void run(AgentHost& host, const std::string& script, const std::string& what) {
        const AgentHost::Ran r = host.exec({"sh", "-c", script}, 60s);
        if (r.rc != 0)
            throw std::runtime_error(fmt::format("cannot {} on {}: exit {}: {}", what, host.name(), r.rc, first_line(r.err.empty() ? r.out : r.err)));
    }

    NfsLab& lab_;
    std::string mount_;
    bool link_down_[2] = {false, false};
    bool recover_set_[2] = {false, false};
    bool crashed_[2] = {false, false};
    size_t log_mark_[2] = {0, 0};  // dmesg lines before the trials' set-up
};

std::unique_ptr<LabControl> NfsLab::control(const std::string& name) {
    mounts_.at(name);  // throws for a mount not in the lab
    return std::make_unique<NfsLabControl>(*this, name);
}

}  // namespace ilk
