// Entry formats (one line each, "<kind> <what>"):
//   scratch <dir>                        the run's scratch directory
//   mount   <dir>                        a filesystem the kit mounted (dir is ours)
//   loop    <image file>                 a loop device the kit attached to its own image file
//   sysctl  <path> <old> <new>           restore old if the file still holds new
//   segment <primitive> <key> <creator>  a segment a probe process may create
//   proc    <pid> <start time>           a process of the run (killed if still the same)
#include "journal.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <linux/loop.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "registry.h"

namespace ilk {

namespace fs = std::filesystem;

fs::path Journal::state_dir() {
    if (const char* env = std::getenv("ILK_STATE_DIR"); env && *env) return env;
    if (geteuid() == 0) return "/run/ilk";
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return fs::path(xdg) / "ilk";
    return fmt::format("/tmp/ilk-{}", geteuid());
}

unsigned long long process_start_time(int pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(in, line)) return 0;
    const size_t paren = line.rfind(')');  // comm may hold spaces and parens
    if (paren == std::string::npos) return 0;
    std::istringstream rest(line.substr(paren + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22) return std::stoull(field);
    return 0;
}

namespace {

int g_tree_root_dev = 0;
bool g_tree_left_something = false;

int remove_one(const char* path, const struct stat* st, int type, struct FTW*) {
    if (static_cast<int>(st->st_dev) != g_tree_root_dev) {
        g_tree_left_something = true;  // another filesystem: never descend or delete
        return 0;
    }
    const int rc = (type == FTW_DP || type == FTW_D) ? rmdir(path) : unlink(path);
    if (rc != 0 && errno != ENOENT) g_tree_left_something = true;
    return 0;
}

// Undo one entry. Sets `stayed` when the resource may still be there, so the
// journal is kept and a later clean tries again (every undo is safe to repeat).
std::string undo(const JournalEntry& e, const Registry& registry, bool& stayed) {
    std::istringstream in(e.what);
    if (e.kind == "proc") {
        int pid = 0;
        unsigned long long start = 0;
        in >> pid >> start;
        if (pid > 1 && start != 0 && process_start_time(pid) == start) {
            kill(pid, SIGKILL);
            return fmt::format("killed process {}", pid);
        }
        return {};
    }
    if (e.kind == "segment") {
        std::string primitive;
        long long key = 0, creator = 0;
        in >> primitive >> key >> creator;
        const Primitive* p = registry.find(primitive);
        if (!p || !p->desc->segment) {
            stayed = true;
            return fmt::format("cannot reclaim {} segment key {}: plugin not loaded (run ilk clean with its --plugin-dir)", primitive, key);
        }
        const ProbeContext ctx{"/", "/", geteuid() == 0, nullptr, nullptr};
        if (const OpResult r = p->desc->segment->reclaim(&ctx, key, creator); r.status != OpStatus::ok) {
            stayed = true;
            return fmt::format("could not reclaim {} segment key {}: {}", primitive, key, r.message);
        }
        return {};
    }
    if (e.kind == "mount") {
        if (umount2(e.what.c_str(), MNT_DETACH) == 0) {
            rmdir(e.what.c_str());
            return fmt::format("unmounted {}", e.what);
        }
        rmdir(e.what.c_str());
        return {};
    }
    if (e.kind == "loop") {
        // Found by its backing file, which is ours (in our scratch directory):
        // a device number recorded before attaching could be reused by anyone.
        std::error_code ec;
        for (const auto& dev : fs::directory_iterator("/sys/block", ec)) {
            std::ifstream backing(dev.path() / "loop" / "backing_file");
            std::string file;
            if (!std::getline(backing, file) || file != e.what) continue;
            const std::string node = "/dev/" + dev.path().filename().string();
            const int fd = open(node.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || ioctl(fd, LOOP_CLR_FD, 0) != 0) {
                const int err = errno;
                if (fd >= 0) close(fd);
                if (err == ENXIO) continue;  // already detached (autoclear)
                stayed = true;
                return fmt::format("could not detach {} from {}: {}", node, e.what, std::strerror(err));
            }
            close(fd);
            return fmt::format("detached {} ({})", node, e.what);
        }
        return {};
    }
    if (e.kind == "sysctl") {
        std::string path, old_value, new_value, current;
        in >> path >> old_value >> new_value;
        std::ifstream cur(path);
        cur >> current;
        if (current == new_value) {
            std::ofstream out(path);
            if (!(out << old_value << '\n' << std::flush)) {
                stayed = true;
                return fmt::format("could not restore {} to {}: {}", path, old_value, std::strerror(errno));
            }
            return fmt::format("restored {} to {}", path, old_value);
        }
        return {};
    }
    if (e.kind == "scratch") {
        std::error_code ec;
        if (!fs::exists(e.what, ec)) return {};
        std::string error;
        if (!remove_tree_same_fs(e.what, &error)) {
            stayed = true;
            return fmt::format("could not remove {}: {}", e.what, error);
        }
        return fmt::format("removed {}", e.what);
    }
    stayed = true;
    return fmt::format("unknown journal entry '{} {}' left alone", e.kind, e.what);
}

std::vector<JournalEntry> read_entries(const fs::path& file) {
    std::vector<JournalEntry> entries;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        const size_t sp = line.find(' ');
        if (sp == std::string::npos) continue;
        entries.push_back({line.substr(0, sp), line.substr(sp + 1)});
    }
    return entries;
}

// Processes first (they may hold segments and mounts), then the rest newest first.
// `stayed` tells whether anything may be left, in which case the journal is kept.
std::vector<std::string> undo_all(const std::vector<JournalEntry>& entries, const Registry& registry, bool& stayed) {
    std::vector<std::string> done;
    stayed = false;
    auto run = [&](bool procs) {
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
            if ((it->kind == "proc") != procs) continue;
            if (std::string line = undo(*it, registry, stayed); !line.empty()) done.push_back(line);
        }
    };
    run(true);
    if (!done.empty()) usleep(20000);  // let the kernel detach what the killed processes held
    run(false);
    return done;
}

}  // namespace

bool remove_tree_same_fs(const fs::path& dir, std::string* error) {
    struct stat st {};
    if (lstat(dir.c_str(), &st) != 0) return errno == ENOENT;
    g_tree_root_dev = static_cast<int>(st.st_dev);
    g_tree_left_something = false;
    nftw(dir.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    std::error_code ec;
    if (g_tree_left_something || fs::exists(dir, ec)) {
        if (error) *error = "something inside is on another filesystem or could not be deleted";
        return false;
    }
    return true;
}

Journal::Journal(fs::path file, int fd, fs::path scratch)
    : file_(std::move(file)), fd_(fd), scratch_(std::move(scratch)) {}

Journal::Journal(Journal&& o) noexcept
    : file_(std::move(o.file_)), fd_(o.fd_), scratch_(std::move(o.scratch_)), id_(std::move(o.id_)) {
    o.fd_ = -1;
}

Journal::~Journal() {
    if (fd_ >= 0) close(fd_);
}

Journal Journal::begin(const fs::path& parent_dir) {
    const fs::path dir = state_dir();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot create the journal directory {}: {} (set ILK_STATE_DIR)", dir.string(), ec.message()));
    std::random_device rd;
    const std::string id = fmt::format("{}-{:08x}", getpid(), rd());
    const fs::path file = dir / fmt::format("run-{}.journal", id);
    // Made under a name clean_stale_journals() skips, and renamed only once
    // locked: to a concurrent clean an unlocked *.journal is a dead run's, which
    // it would undo and delete while we go on recording into the deleted file.
    const fs::path fresh = dir / fmt::format("run-{}.new", id);
    int fd = -1;
    // Another run may remove the (empty) state directory between our mkdir and open.
    for (int attempt = 0; attempt < 5 && fd < 0; ++attempt) {
        fs::create_directories(dir, ec);
        fd = open(fresh.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0 && errno != ENOENT) break;
    }
    if (fd < 0) throw std::runtime_error(fmt::format("cannot create journal {}: {}", fresh.string(), std::strerror(errno)));
    // The lifetime lock that tells later runs this journal's run is alive.
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || rename(fresh.c_str(), file.c_str()) != 0) {
        const int err = errno;
        unlink(fresh.c_str());
        close(fd);
        throw std::runtime_error(fmt::format("cannot lock journal {}: {}", file.string(), std::strerror(err)));
    }
    Journal j(file, fd, parent_dir / fmt::format("ilk-scratch-{}", id));
    j.id_ = id;
    if (!j.record("scratch", j.scratch_.string()) || mkdir(j.scratch_.c_str(), 0755) != 0) {
        const int err = errno;
        j.finish(Registry{});
        throw std::runtime_error(fmt::format("cannot create scratch directory in {}: {}", parent_dir.string(), std::strerror(err)));
    }
    return j;
}

fs::path Journal::make_scratch(const fs::path& parent, const std::string& stem) const {
    const fs::path dir = parent / fmt::format("{}-{}", stem, id_);
    if (!record("scratch", dir.string()))
        throw std::runtime_error(fmt::format("cannot journal {}: {}", dir.string(), std::strerror(errno)));
    if (mkdir(dir.c_str(), 0755) != 0)
        throw std::runtime_error(fmt::format("cannot create scratch directory {}: {}", dir.string(), std::strerror(errno)));
    return dir;
}

// No fsync: a crash of the kit (even SIGKILL) keeps what write() put in the page
// cache, and after a crash of the machine the processes, segments and mounts
// the journal speaks of are gone anyway.
bool Journal::record(const std::string& kind, const std::string& what) const {
    const std::string line = kind + " " + what + "\n";
    return write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size());
}

std::vector<std::string> Journal::finish(const Registry& registry) {
    bool stayed = false;
    std::vector<std::string> done = undo_all(read_entries(file_), registry, stayed);
    if (!stayed) unlink(file_.c_str());  // else kept, unlocked: the next run or clean tries again
    close(fd_);
    fd_ = -1;
    return done;
}

std::vector<std::string> clean_stale_journals(const Registry& registry) {
    std::vector<std::string> done;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(Journal::state_dir(), ec)) {
        const fs::path& file = entry.path();
        if (file.extension() != ".journal") continue;
        const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {  // its run is alive
            close(fd);
            continue;
        }
        bool stayed = false;
        for (const std::string& line : undo_all(read_entries(file), registry, stayed))
            done.push_back(fmt::format("{}: {}", file.filename().string(), line));
        if (!stayed) unlink(file.c_str());  // else kept for a later clean
        close(fd);
    }
    return done;
}

}  // namespace ilk
