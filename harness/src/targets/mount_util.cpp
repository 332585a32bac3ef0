#include "targets/mount_util.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "journal.h"
#include "target.h"

namespace ilk {

namespace fs = std::filesystem;

namespace {

// Images are sparse: only what the filesystem writes takes space.
constexpr off_t kImageBytes = 320LL << 20;  // mkfs.xfs refuses less than 300 MiB

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

}  // namespace

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

void mount_fs(const Journal& j, const std::string& source, const fs::path& dir, const char* type, const std::string& options,
              PreparedTarget& t) {
    if (!j.record("mount", dir.string())) throw std::runtime_error(fmt::format("cannot journal mount {}", dir.string()));
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        throw std::runtime_error(fmt::format("mkdir {}: {}", dir.string(), std::strerror(errno)));
    if (mount(source.c_str(), dir.c_str(), type, MS_NOSUID | MS_NODEV, options.empty() ? nullptr : options.c_str()) != 0)
        throw std::runtime_error(fmt::format("mount -t {} -o {} {} {}: {}", type, options, source, dir.string(), std::strerror(errno)));
    t.info["requested"] = {{"fstype", type}, {"options", options}};
}

void setup_loop_image(const std::string& name, const std::vector<std::string>& mkfs, const fs::path& base, const Journal& j,
                      PreparedTarget& t) {
    const fs::path image = base / fmt::format("{}.img", name);
    make_image(image);
    std::vector<std::string> args{find_tool(mkfs.front())};
    args.insert(args.end(), mkfs.begin() + 1, mkfs.end());
    args.push_back(image.string());
    run_tool(args);
    const std::string dev = attach_loop(j, image);
    t.info["loop_device"] = dev;
    t.info["image"] = image.string();
    mount_fs(j, dev, base / name, name.c_str(), "", t);
    t.dir = base / name;
}

TargetKind loop_image_kind(const std::string& fstype, const std::vector<std::string>& mkfs, const std::string& package) {
    return {.name = fstype,
            .summary = fstype + " on a loop image",
            .needs_root = true,
            .segments_only = false,
            .tools = {{mkfs.at(0), package}},
            .setup = [fstype, mkfs](const fs::path& base, const Journal& j,
                                    PreparedTarget& t) { setup_loop_image(fstype, mkfs, base, j, t); },
            .teardown = "unmount; detach the loop device; delete the image with the scratch directory",
            .plugin = {}};
}

}  // namespace ilk
