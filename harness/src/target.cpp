#include "target.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "hostinfo.h"
#include "journal.h"
#include "profile.h"  // closest_match

namespace ilk {

namespace fs = std::filesystem;

namespace {

// Images are sparse: only what the filesystem writes takes space.
constexpr off_t kImageBytes = 320LL << 20;  // mkfs.xfs refuses less than 300 MiB

}  // namespace

// ILK_TOOL_PATH if set (tests use it to make a tool missing), else PATH and
// then the sbin directories a non-login root shell may lack.
std::string find_tool(std::string_view binary) {
    const char* override_path = std::getenv("ILK_TOOL_PATH");
    std::string path;
    if (override_path) {
        path = override_path;
    } else {
        path = std::getenv("PATH") ? std::getenv("PATH") : "";
        path += ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";
    }
    size_t start = 0;
    while (start <= path.size()) {
        const size_t end = std::min(path.find(':', start), path.size());
        if (end > start) {
            const fs::path candidate = fs::path(path.substr(start, end - start)) / binary;
            if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
        }
        start = end + 1;
    }
    return {};
}

namespace {

// Run a tool to completion (60 s at most); throws with its output on failure.
void run_tool(const std::vector<std::string>& args) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(out[1], 2);
        std::vector<char*> argv;
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(out[1]);
    std::string output;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    char buf[512];
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        pollfd p{out[0], POLLIN, 0};
        if (left <= 0 || poll(&p, 1, static_cast<int>(left)) == 0) {
            kill(pid, SIGKILL);
            output += "\n(timed out after 60 s)";
            break;
        }
        const ssize_t n = read(out[0], buf, sizeof buf);
        if (n <= 0) break;
        if (output.size() < 4096) output.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    while (!output.empty() && std::isspace(static_cast<unsigned char>(output.back()))) output.pop_back();
    throw std::runtime_error(fmt::format("{} failed ({}): {}", args[0],
                                         WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status)) : "killed", output));
}

// Journal the mount point, make it, mount.
void mount_fs(const Journal& j, const std::string& source, const fs::path& dir, const char* type, const std::string& options,
              PreparedTarget& t) {
    if (!j.record("mount", dir.string())) throw std::runtime_error(fmt::format("cannot journal mount {}", dir.string()));
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        throw std::runtime_error(fmt::format("mkdir {}: {}", dir.string(), std::strerror(errno)));
    if (mount(source.c_str(), dir.c_str(), type, MS_NOSUID | MS_NODEV, options.empty() ? nullptr : options.c_str()) != 0)
        throw std::runtime_error(fmt::format("mount -t {} -o {} {} {}: {}", type, options, source, dir.string(), std::strerror(errno)));
    t.info["requested"] = {{"fstype", type}, {"options", options}};
}

// A loop device on an image file, journaled by its image file. Not autoclear:
// that would detach it as soon as we close it, before the mount holds it.
std::string attach_loop(const Journal& j, const fs::path& image) {
    if (!j.record("loop", image.string())) throw std::runtime_error(fmt::format("cannot journal loop device for {}", image.string()));
    const int img = open(image.c_str(), O_RDWR | O_CLOEXEC);
    if (img < 0) throw std::runtime_error(fmt::format("open {}: {}", image.string(), std::strerror(errno)));
    const int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) {
        close(img);
        throw std::runtime_error(fmt::format("open /dev/loop-control: {} (no loop device support here)", std::strerror(errno)));
    }
    std::string node;
    for (int attempt = 0; attempt < 10 && node.empty(); ++attempt) {  // another process may take the free device first
        const int n = ioctl(control, LOOP_CTL_GET_FREE);
        if (n < 0) break;
        const std::string candidate = fmt::format("/dev/loop{}", n);
        const int dev = open(candidate.c_str(), O_RDWR | O_CLOEXEC);
        if (dev < 0) continue;
        loop_config cfg{};
        cfg.fd = static_cast<__u32>(img);
        std::snprintf(reinterpret_cast<char*>(cfg.info.lo_file_name), sizeof cfg.info.lo_file_name, "%s", image.c_str());
        if (ioctl(dev, LOOP_CONFIGURE, &cfg) == 0) node = candidate;
        close(dev);
    }
    const int err = errno;
    close(control);
    close(img);
    if (node.empty()) throw std::runtime_error(fmt::format("cannot attach a loop device to {}: {}", image.string(), std::strerror(err)));
    return node;
}

void make_image(const fs::path& image) {
    const int fd = open(image.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, kImageBytes) != 0) {
        const int err = errno;
        if (fd >= 0) close(fd);
        throw std::runtime_error(fmt::format("cannot make image {}: {}", image.string(), std::strerror(err)));
    }
    close(fd);
}

void setup_block(const TargetKind& k, const fs::path& base, const Journal& j, PreparedTarget& t) {
    const fs::path image = base / fmt::format("{}.img", k.name);
    make_image(image);
    std::vector<std::string> mkfs{find_tool(k.tools.front().binary)};
    if (k.name == "ext4") mkfs.insert(mkfs.end(), {"-q", "-F"});
    else mkfs.insert(mkfs.end(), {"-q", "-f"});
    mkfs.push_back(image.string());
    run_tool(mkfs);
    const std::string dev = attach_loop(j, image);
    t.info["loop_device"] = dev;
    t.info["image"] = image.string();
    mount_fs(j, dev, base / k.name, std::string(k.name).c_str(), "", t);
    t.dir = base / k.name;
}

void setup_tmpfs(const TargetKind&, const fs::path& base, const Journal& j, PreparedTarget& t) {
    mount_fs(j, "ilk-tmpfs", base / "tmpfs", "tmpfs", "mode=0755,size=256m", t);
    t.dir = base / "tmpfs";
}

// Upper and work directories on a tmpfs of their own; the lower layer holds a
// data directory with a lockfile that existed before the container started
// (as an image layer would): opening it for writing copies it up.
void setup_overlay(const TargetKind&, const fs::path& base, const Journal& j, PreparedTarget& t) {
    const fs::path layers = base / "overlayfs-layers";
    mount_fs(j, "ilk-overlay-layers", layers, "tmpfs", "mode=0755,size=64m", t);
    for (const char* d : {"lower", "upper", "work", "lower/preexisting"}) fs::create_directories(layers / d);
    const fs::path lockfile = layers / "lower/preexisting/postmaster.pid";
    std::ofstream(lockfile) << "1\n/var/lib/postgresql/data\n0\n5432\n/tmp\n*\n0 0\n";
    // Spare lower-layer files for the probe: each fact needs one not yet copied up.
    fs::create_directories(layers / "lower/copyup");
    for (int i = 1; i <= 32; ++i) std::ofstream(layers / fmt::format("lower/copyup/copyup-{}", i)) << "lockfile from the image\n";
    const std::string options = fmt::format("lowerdir={},upperdir={},workdir={}", (layers / "lower").string(),
                                            (layers / "upper").string(), (layers / "work").string());
    mount_fs(j, "ilk-overlay", base / "overlayfs", "overlay", options, t);
    t.info["lower_lockfile"] = (base / "overlayfs/preexisting/postmaster.pid").string();
    t.lower_dir = base / "overlayfs/copyup";
    t.dir = base / "overlayfs";
}

// bindfs over a directory of the base filesystem; with --enable-lock-forwarding
// locks go to the source directory (taken by the bindfs process itself).
void setup_fuse(const TargetKind& k, const fs::path& base, const Journal& j, PreparedTarget& t) {
    if (access("/dev/fuse", R_OK | W_OK) != 0)
        throw std::runtime_error(fmt::format("/dev/fuse is not usable: {} (load the fuse module: modprobe fuse)", std::strerror(errno)));
    const fs::path source = base / fmt::format("{}-source", k.name), mountpoint = base / std::string(k.name);
    fs::create_directories(source);
    fs::permissions(source, fs::perms(0755));
    if (!j.record("mount", mountpoint.string())) throw std::runtime_error("cannot journal the bindfs mount");
    fs::create_directories(mountpoint);
    std::vector<std::string> args{find_tool("bindfs"), "-o", "allow_other"};
    // bindfs forwards locks only when multithreaded (its man page names the caveats).
    if (k.name == "fuse-lockfwd") args.insert(args.end(), {"--enable-lock-forwarding", "--multithreaded"});
    args.push_back(source.string());
    args.push_back(mountpoint.string());
    run_tool(args);
    t.info["requested"] = {{"fstype", "fuse.bindfs"},
                           {"options", fmt::format("allow_other{}", k.name == "fuse-lockfwd" ? ",enable-lock-forwarding,multithreaded" : "")}};
    t.info["fuse_source"] = source.string();
    t.dir = mountpoint;
}

// Segments only: the probe measures the hugetlbfs segment primitive on it.
void setup_hugetlbfs(const TargetKind&, const fs::path& base, const Journal& j, PreparedTarget& t) {
    mount_fs(j, "ilk-hugetlbfs", base / "hugetlbfs", "hugetlbfs", "mode=1777", t);
    t.dir = base / "hugetlbfs";
}

using SetupFn = void (*)(const TargetKind&, const fs::path&, const Journal&, PreparedTarget&);

struct KindEntry {
    TargetKind kind;
    SetupFn setup;
};

const std::vector<KindEntry>& kind_entries() {
    static const std::vector<KindEntry> entries{
        {{"tmpfs", "tmpfs mounted by the kit", false, {}}, setup_tmpfs},
        {{"ext4", "ext4 on a loop image", false, {{"mkfs.ext4", "e2fsprogs"}}}, setup_block},
        {{"xfs", "xfs on a loop image", false, {{"mkfs.xfs", "xfsprogs"}}}, setup_block},
        {{"btrfs", "btrfs on a loop image", false, {{"mkfs.btrfs", "btrfs-progs"}}}, setup_block},
        {{"overlayfs", "overlayfs, upper on tmpfs, a lower layer holding a pre-existing lockfile", false, {}}, setup_overlay},
        {{"fuse", "FUSE: bindfs over a directory, locks kept by the kernel's FUSE layer", false, {{"bindfs", "bindfs"}}}, setup_fuse},
        {{"fuse-lockfwd", "FUSE: bindfs --enable-lock-forwarding (locks forwarded to the source directory)", false, {{"bindfs", "bindfs"}}},
         setup_fuse},
        {{"hugetlbfs", "hugetlbfs mounted by the kit (segments only: no data directory)", true, {}}, setup_hugetlbfs},
    };
    return entries;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const std::vector<TargetKind>& target_kinds() {
    static const std::vector<TargetKind> kinds = [] {
        std::vector<TargetKind> out;
        for (const KindEntry& e : kind_entries()) out.push_back(e.kind);
        return out;
    }();
    return kinds;
}

const TargetKind* find_target_kind(std::string_view name) {
    for (const TargetKind& k : target_kinds())
        if (k.name == name) return &k;
    return nullptr;
}

std::vector<std::string> target_kind_names() {
    std::vector<std::string> names;
    for (const TargetKind& k : target_kinds()) names.emplace_back(k.name);
    return names;
}

std::string unknown_target_message(std::string_view name) {
    const std::vector<std::string> names = target_kind_names();
    const std::string guess = closest_match(name, names);
    return fmt::format("no target named '{}'{}; kit-made targets: {}", name, guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess),
                       fmt::join(names, ", "));
}

bool names_a_directory(std::string_view spec) {
    return spec.find('/') != std::string_view::npos || spec == "." || spec == "..";
}

std::string check_target_dir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) return fmt::format("target {} does not exist: create it or name another --target", dir.string());
    if (!fs::is_directory(dir, ec))
        return fmt::format("target {} is not a directory: name the directory that would hold the data directory", dir.string());
    struct statvfs sv {};
    if (statvfs(dir.c_str(), &sv) == 0 && (sv.f_flag & ST_RDONLY))
        return fmt::format("target {} is on a read-only mount: remount it read-write or name another --target", dir.string());
    if (access(dir.c_str(), W_OK | X_OK) != 0)
        return fmt::format("target {} is not writable by uid {}: fix its permissions or run as its owner", dir.string(), geteuid());
    return {};
}

PreparedTarget prepare_target(const std::string& spec, const Journal& journal) {
    const auto t0 = std::chrono::steady_clock::now();
    PreparedTarget t;
    t.name = spec;
    if (names_a_directory(spec)) {
        t.kind = "directory";
        if (std::string why = check_target_dir(spec); !why.empty()) {
            t.unsupported = why;
        } else {
            try {
                // Not ilk-scratch: $TMPDIR is both a target and where the run's own scratch directory goes.
                t.dir = journal.make_scratch(spec, "ilk-target");
                t.info = target_info(spec);
            } catch (const std::exception& e) {
                t.unsupported = e.what();
            }
        }
        t.setup_ms = ms_since(t0);
        return t;
    }
    t.kind = "kit";
    const KindEntry* entry = nullptr;
    for (const KindEntry& e : kind_entries())
        if (e.kind.name == spec) entry = &e;
    if (!entry) throw std::invalid_argument(fmt::format("no target named '{}'", spec));
    t.segments_only = entry->kind.segments_only;
    if (geteuid() != 0) {
        t.unsupported = fmt::format("the kit mounts {} itself, which needs root: run as root, or name a directory on such a filesystem", spec);
        return t;
    }
    for (const TargetTool& tool : entry->kind.tools)
        if (find_tool(tool.binary).empty()) {
            t.unsupported = fmt::format("{} is not installed: apt-get install {}", tool.binary, tool.package);
            return t;
        }
    try {
        entry->setup(entry->kind, journal.scratch(), journal, t);
        const nlohmann::json requested = t.info.value("requested", nlohmann::json::object());
        const nlohmann::json got = target_info(t.dir);
        for (auto& [key, value] : got.items()) t.info[key] = value;
        t.info["requested"] = requested;
    } catch (const std::exception& e) {
        t.unsupported = fmt::format("could not set up {}: {}", spec, e.what());
        t.dir.clear();
    }
    t.setup_ms = ms_since(t0);
    return t;
}

}  // namespace ilk
