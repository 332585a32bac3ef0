// Entry formats (one line each, "<kind> <what>"):
//   scratch    <dir>                        a scratch directory of the run: <parent>/ilk-<stem>-<run id>
//   mount      <dir>                        a filesystem the kit mounted, inside one of the run's scratch directories
//   loop       <image file>                 a loop device on the kit's image file, inside a scratch directory
//   sysctl-add <path> <delta>               raised by delta: lowered by delta again (never below 0)
//   sysctl     <path> <old> <new>           (older kits and plugins) restore old if the file still holds new
//   segment    <primitive> <key> <creator>  a segment a probe process may create (reclaimed by its plugin)
//   shm        <key> <creator>              a SysV segment the kit plants itself (removed if creator made it)
//   proc       <pid> <start time>           a process of the run (killed if still the same, with its descendants)
// A journal is trusted only as far as it could not have been planted: the
// state directory and the journal must be the user's own and private, and each
// entry must be of the form above, naming only what this run can have made
// (its run id is in the file name: run-<id>.journal). Anything else is
// reported and left alone.
#include "journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <linux/loop.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ilk/hugepage_support.h"
#include "registry.h"

namespace ilk {

namespace fs = std::filesystem;

fs::path Journal::state_dir() {
    if (const char* env = std::getenv("ILK_STATE_DIR"); env && *env) return env;
    if (geteuid() == 0) return "/run/ilk";
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return fs::path(xdg) / "ilk";
    return fmt::format("/tmp/ilk-{}", geteuid());
}

std::optional<ProcStat> read_proc_stat(int pid) {
    // One read(2) of /proc/PID/stat: an alive check runs after every step, and
    // each open of a dead process's /proc entry is a dcache walk.
    char path[32], buf[1024];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return std::nullopt;
    const std::string_view line(buf, static_cast<size_t>(n));
    const size_t paren = line.rfind(')');  // comm may hold spaces and parens
    if (paren == std::string_view::npos || paren + 2 >= line.size()) return std::nullopt;
    ProcStat st{line[paren + 2], 0, std::atoi(buf + paren + 4)};  // ") S PPID ..."
    // Fields from 3 (state) on, space-separated: the start time is field 22.
    size_t at = paren + 2;
    for (int field = 3; field < 22; ++field) {
        at = line.find(' ', at);
        if (at == std::string_view::npos) return std::nullopt;
        ++at;
    }
    st.start = std::strtoull(buf + at, nullptr, 10);
    return st;
}

unsigned long long process_start_time(int pid) {
    const auto st = read_proc_stat(pid);
    return st ? st->start : 0;
}

std::vector<pid_t> process_children(pid_t pid) {
    std::vector<pid_t> out;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR* tasks = opendir(path);
    if (!tasks) return out;
    while (const dirent* e = readdir(tasks)) {
        if (e->d_name[0] == '.') continue;
        std::snprintf(path, sizeof path, "/proc/%d/task/%.16s/children", pid, e->d_name);
        std::ifstream in(path);
        for (long child = 0; in >> child;) out.push_back(static_cast<pid_t>(child));
    }
    closedir(tasks);
    return out;
}

namespace {

// --- the state directory and its journals: the user's own, or refused --------

constexpr const char* kStateDirFix = "remove it or set ILK_STATE_DIR to a directory of your own (mode 0700)";

// Why st (of the state directory, not followed) is not safe to trust, or empty.
std::string state_dir_problem(const fs::path& dir, const struct stat& st) {
    if (S_ISLNK(st.st_mode)) return fmt::format("state directory {} is a symbolic link: {}", dir.string(), kStateDirFix);
    if (!S_ISDIR(st.st_mode)) return fmt::format("state directory {} is not a directory: {}", dir.string(), kStateDirFix);
    if (st.st_uid != geteuid())
        return fmt::format("state directory {} is owned by uid {}, not you (uid {}): {}", dir.string(), st.st_uid, geteuid(),
                           kStateDirFix);
    if (st.st_mode & 077)  // writable by others: open_state_dir() made it private if only readable
        return fmt::format("state directory {} has mode {:04o}, so others could plant journals there: chmod 700 {}, or {}",
                           dir.string(), st.st_mode & 07777, dir.string(), kStateDirFix);
    return {};
}

// Open the state directory without following a symlink and check it; make it
// (0700) first when `create`. Returns -1 if it is missing and !create.
int open_state_dir(const fs::path& dir, bool create) {
    bool made = false;
    if (create) {
        std::error_code ec;
        if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
        made = mkdir(dir.c_str(), 0700) == 0;
        if (!made && errno != EEXIST)
            throw std::runtime_error(fmt::format("cannot create the state directory {}: {} (set ILK_STATE_DIR)", dir.string(),
                                                 std::strerror(errno)));
    }
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st {};
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT && !create) return -1;
        if (lstat(dir.c_str(), &st) == 0)
            if (std::string why = state_dir_problem(dir, st); !why.empty()) throw UnsafeStateDir(why);
        throw std::runtime_error(fmt::format("cannot open the state directory {}: {} (set ILK_STATE_DIR)", dir.string(),
                                             std::strerror(err)));
    }
    if (fstat(fd, &st) != 0) st = {};
    // Ours and writable by nobody else (as older kits made it, 0755): nothing
    // can have been planted, so make it private rather than refuse it.
    const bool only_readable_by_others = (st.st_mode & 077) != 0 && (st.st_mode & 022) == 0;
    if (S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (made || only_readable_by_others) && fchmod(fd, 0700) == 0 &&
        fstat(fd, &st) != 0)
        st = {};
    if (std::string why = state_dir_problem(dir, st); !why.empty()) {
        close(fd);
        throw UnsafeStateDir(why);
    }
    return fd;
}

// Why an open journal (fstat of its fd) is not to be trusted, or empty.
std::string journal_problem(const fs::path& file, const struct stat& st) {
    if (!S_ISREG(st.st_mode)) return fmt::format("journal {} is not a regular file: the kit never makes one; remove it", file.string());
    if (st.st_uid != geteuid())
        return fmt::format("journal {} is owned by uid {}, not you (uid {}): the kit never makes one; remove it", file.string(),
                           st.st_uid, geteuid());
    if (st.st_mode & 077)
        return fmt::format("journal {} has mode {:04o}, not 0600, so others could have written to it: check it, then remove "
                           "it or chmod 600 it",
                           file.string(), st.st_mode & 07777);
    return {};
}

struct JournalFile {
    std::string name;  // run-<id>.journal
    int fd = -1;       // read-only, checked
};

void close_all(std::vector<JournalFile>& files) {
    for (JournalFile& f : files) close(f.fd);
    files.clear();
}

// Every *.journal in the state directory, opened without following symlinks
// (nor blocking on a FIFO) and checked on the opened file. Throws
// UnsafeStateDir for the first that is not the user's own, after closing all.
std::vector<JournalFile> open_journals(int dir_fd, const fs::path& dir) {
    std::vector<JournalFile> files;
    DIR* d = fdopendir(dup(dir_fd));
    if (!d) throw std::runtime_error(fmt::format("cannot read the state directory {}: {}", dir.string(), std::strerror(errno)));
    std::string problem;
    while (const dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (fs::path(name).extension() != ".journal") continue;
        const int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        struct stat st {};
        if (fd < 0) {
            if (errno == ENOENT) continue;  // its run just finished
            problem = errno == ELOOP ? fmt::format("journal {} is a symbolic link: the kit never makes one; remove it",
                                                   (dir / name).string())
                                     : fmt::format("cannot open journal {}: {}: check it, then remove it", (dir / name).string(),
                                                   std::strerror(errno));
        } else if (fstat(fd, &st) != 0 || !(problem = journal_problem(dir / name, st)).empty()) {
            close(fd);
        } else {
            files.push_back({name, fd});
        }
        if (!problem.empty()) break;
    }
    closedir(d);
    if (!problem.empty()) {
        close_all(files);
        throw UnsafeStateDir(problem + " (nothing any journal names was touched)");
    }
    return files;
}

std::string read_all(int fd) {
    std::string text;
    char buf[65536];
    for (off_t at = 0;;) {
        const ssize_t n = pread(fd, buf, sizeof buf, at);
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
        at += n;
    }
    return text;
}

// --- entries: of the form the kit makes, or left alone ---------------------------

struct CheckedEntry {
    JournalEntry e;
    int line = 0;
    std::string never_made;  // why the kit never writes this entry; empty if it may have
};

std::optional<long long> parse_integer(const std::string& s) {
    long long v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

// Exactly n space-separated fields, or nothing.
std::optional<std::vector<std::string>> split_fields(const std::string& what, size_t n) {
    std::vector<std::string> out;
    size_t at = 0;
    for (;;) {
        const size_t sp = what.find(' ', at);
        out.push_back(what.substr(at, sp == std::string::npos ? std::string::npos : sp - at));
        if (sp == std::string::npos) break;
        at = sp + 1;
    }
    if (out.size() != n || std::any_of(out.begin(), out.end(), [](const std::string& f) { return f.empty(); })) return std::nullopt;
    return out;
}

// Absolute and already normal: no `.`, `..`, `//` or trailing slash.
bool is_normal_absolute(const std::string& p) {
    const fs::path path(p);
    return p.size() > 1 && p[0] == '/' && path.has_filename() && path.lexically_normal().string() == p;
}

bool is_lower_word(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// `ilk-<stem>-<run id>`, as Journal::begin and make_scratch name them.
bool is_scratch_name(const std::string& name, const std::string& run_id) {
    const std::string tail = "-" + run_id;
    if (run_id.empty() || name.rfind("ilk-", 0) != 0 || name.size() <= tail.size() + 4 ||
        name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
        return false;
    return is_lower_word(name.substr(4, name.size() - tail.size() - 4));
}

bool strictly_inside(const std::string& path, const std::vector<std::string>& dirs) {
    return std::any_of(dirs.begin(), dirs.end(), [&](const std::string& d) {
        return path.size() > d.size() + 1 && path.compare(0, d.size(), d) == 0 && path[d.size()] == '/';
    });
}

bool is_kit_sysctl(const std::string& path) { return path == kOvercommitPath; }

// Why the kit never writes this entry into journal run-<run_id>, or empty.
// `scratch` holds the scratch directories recorded on earlier lines.
std::string never_made(const JournalEntry& e, const std::string& run_id, const std::vector<std::string>& scratch) {
    const auto positive = [](const std::string& s, long long above) {
        const auto v = parse_integer(s);
        return v && *v > above;
    };
    if (e.kind == "scratch") {
        if (!is_normal_absolute(e.what)) return "not an absolute, normal path";
        if (!is_scratch_name(fs::path(e.what).filename().string(), run_id))
            return fmt::format("not named ilk-<stem>-{} as this run's scratch directories are", run_id);
        return {};
    }
    if (e.kind == "mount" || e.kind == "loop") {
        if (!is_normal_absolute(e.what)) return "not an absolute, normal path";
        if (!strictly_inside(e.what, scratch)) return "not inside a scratch directory recorded before it";
        return {};
    }
    if (e.kind == "proc") {
        const auto f = split_fields(e.what, 2);
        return f && positive((*f)[0], 1) && positive((*f)[1], 0) ? "" : "not <pid above 1> <start time>";
    }
    if (e.kind == "shm") {
        const auto f = split_fields(e.what, 2);
        return f && parse_integer((*f)[0]) && positive((*f)[1], 1) ? "" : "not <key> <creator pid>";
    }
    if (e.kind == "shm-by") {
        const auto f = split_fields(e.what, 2);
        return f && positive((*f)[0], 1) && positive((*f)[1], 0) ? "" : "not <creator pid above 1> <creator uid above 0>";
    }
    if (e.kind == "segment") {
        const auto f = split_fields(e.what, 3);
        return f && is_lower_word((*f)[0]) && parse_integer((*f)[1]) && positive((*f)[2], 1) ? ""
                                                                                               : "not <primitive> <key> <creator pid>";
    }
    if (e.kind == "sysctl-add") {
        const auto f = split_fields(e.what, 2);
        if (!f || !is_kit_sysctl((*f)[0])) return fmt::format("the kit changes no sysctl but {}", kOvercommitPath);
        const auto delta = parse_integer((*f)[1]);
        return delta && *delta > 0 && *delta <= 1'000'000 ? "" : "not <path> <delta between 1 and 1000000>";
    }
    if (e.kind == "sysctl") {
        const auto f = split_fields(e.what, 3);
        if (!f || !is_kit_sysctl((*f)[0])) return fmt::format("the kit changes no sysctl but {}", kOvercommitPath);
        return positive((*f)[1], -1) && positive((*f)[2], -1) ? "" : "not <path> <old value> <new value>";
    }
    return "unknown kind";
}

// Every line of a journal, each with the verdict of never_made().
std::vector<CheckedEntry> read_entries(const std::string& text, const std::string& run_id) {
    std::vector<CheckedEntry> entries;
    std::vector<std::string> scratch;
    std::istringstream in(text);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.empty()) continue;
        const size_t sp = line.find(' ');
        CheckedEntry c{{line.substr(0, sp), sp == std::string::npos ? "" : line.substr(sp + 1)}, n, {}};
        c.never_made = sp == std::string::npos ? "no <kind> <what>" : never_made(c.e, run_id, scratch);
        if (c.never_made.empty() && c.e.kind == "scratch") scratch.push_back(c.e.what);
        entries.push_back(std::move(c));
    }
    return entries;
}

// run-<id>.journal -> <id>
std::string run_id_of(const std::string& journal_name) {
    const std::string stem = fs::path(journal_name).stem().string();
    return stem.rfind("run-", 0) == 0 ? stem.substr(4) : "";
}

// --- undoing one entry --------------------------------------------------------

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

struct Outcome {
    enum State { gone, undone, left } state = gone;  // gone: nothing of ours was there (any line is a note)
    std::string line;
};

Outcome undone(std::string line) { return {Outcome::undone, std::move(line)}; }
Outcome left(std::string line) { return {Outcome::left, std::move(line)}; }

// Debian 12's <sys/pidfd.h> declares these without extern "C": the system calls themselves.
int pidfd_open(pid_t pid, unsigned flags) { return static_cast<int>(syscall(SYS_pidfd_open, pid, flags)); }
int pidfd_send_signal(int pidfd, int sig, siginfo_t* info, unsigned flags) {
    return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags));
}

// A pidfd of `pid` while it is still the process `is_it` says (checked after
// the pidfd is open, so it cannot name a recycled PID afterwards); -1 if not.
int pidfd_if(pid_t pid, const std::function<bool(const ProcStat&)>& is_it) {
    const int fd = pidfd_open(pid, 0);
    if (fd < 0) return -1;
    const auto st = read_proc_stat(pid);
    if (!st || !is_it(*st)) {
        close(fd);
        return -1;
    }
    return fd;
}

// Stop a process and wait (at most 0.2 s) until it is stopped or gone: a
// stopped process forks no more, so its children can be read once and for all.
void stop_process(int pidfd, pid_t pid) {
    if (pidfd_send_signal(pidfd, SIGSTOP, nullptr, 0) != 0) return;
    for (int i = 0; i < 200; ++i) {
        const auto st = read_proc_stat(pid);
        if (!st || st->state == 'T' || st->state == 't' || st->state == 'Z' || st->state == 'X') return;
        usleep(1000);
    }
}

// A journaled process, and every process it made that is still its
// descendant: a child made after the journal's last line (a server's backend
// forked before the kit could journal it) outlives a SIGKILLed parent. Each is
// stopped before its children are read, then all are killed. Signals go
// through pidfds, so a PID recycled meanwhile is never signalled.
Outcome undo_proc(const std::vector<std::string>& f) {
    const int pid = static_cast<int>(*parse_integer(f[0]));
    const unsigned long long start = std::stoull(f[1]);
    const int root = pidfd_if(pid, [&](const ProcStat& st) { return st.start == start; });
    if (root < 0) return {};
    std::vector<std::pair<pid_t, int>> tree{{pid, root}};
    stop_process(root, pid);
    for (size_t i = 0; i < tree.size(); ++i)
        for (pid_t child : process_children(tree[i].first)) {
            const pid_t parent = tree[i].first;
            const int fd = pidfd_if(child, [&](const ProcStat& st) { return st.ppid == parent; });
            if (fd < 0) continue;
            stop_process(fd, child);
            tree.emplace_back(child, fd);
        }
    std::vector<pid_t> made;
    for (const auto& [p, fd] : tree) {
        pidfd_send_signal(fd, SIGKILL, nullptr, 0);
        close(fd);
        if (p != pid) made.push_back(p);
    }
    if (made.empty()) return undone(fmt::format("killed process {}", pid));
    return undone(fmt::format("killed process {} and {} it made ({})", pid, made.size(), fmt::join(made, ", ")));
}

// Remove every SysV segment of this IPC namespace that `ours` says is ours
// (a key can name more than one, as the sysv plugin's reclaim knows): the
// shmids removed; sets *err (when given) on a failure.
std::vector<int> reclaim_sysv_where(const std::function<bool(const struct shmid_ds&)>& ours, int* err) {
    std::vector<int> removed;
    struct shm_info info {};
    const int max_index = shmctl(0, SHM_INFO, reinterpret_cast<struct shmid_ds*>(&info));
    for (int index = 0; index <= max_index; ++index) {
        struct shmid_ds ds {};
        const int id = shmctl(index, SHM_STAT, &ds);
        if (id < 0 || !ours(ds)) continue;
        if (shmctl(id, IPC_RMID, nullptr) == 0) removed.push_back(id);
        else if (err && errno != EINVAL && errno != EIDRM) *err = errno;
    }
    return removed;
}

// The segments under key that creator made; nothing else (the key may be someone else's by now).
std::vector<int> reclaim_sysv(long long key, long long creator, int* err) {
    return reclaim_sysv_where(
        [&](const struct shmid_ds& ds) { return ds.shm_perm.__key == static_cast<key_t>(key) && ds.shm_cpid == static_cast<pid_t>(creator); }, err);
}

}  // namespace

std::vector<int> reclaim_sysv_created_by(pid_t creator, uid_t uid, int* err) {
    return reclaim_sysv_where([&](const struct shmid_ds& ds) { return ds.shm_cpid == creator && ds.shm_perm.cuid == uid; }, err);
}

namespace {

Outcome reclaim_sysv_outcome(long long key, long long creator) {
    int err = 0;
    const std::vector<int> removed = reclaim_sysv(key, creator, &err);
    if (err != 0) return left(fmt::format("could not remove SysV segment key {:#x} of process {}: {}", key, creator, std::strerror(err)));
    if (removed.empty()) return {};
    return undone(fmt::format("removed SysV segment key {:#x} (shmid {})", key, fmt::join(removed, ", ")));
}

// SysV segments of the kit's own primitives need no plugin to be reclaimed.
bool is_plain_sysv(const std::string& primitive) { return primitive == "sysv" || primitive == "sysv-huge"; }

// scratch: the journal's scratch directory, where its plugins made their
// mounts; a plugin reclaims there, never in another run's.
Outcome undo_segment(const std::vector<std::string>& f, const Registry& registry, const std::string& scratch) {
    const Primitive* p = registry.find(f[0]);
    const long long key = *parse_integer(f[1]), creator = *parse_integer(f[2]);
    if ((!p || !p->desc->segment) && is_plain_sysv(f[0])) return reclaim_sysv_outcome(key, creator);
    const ProbeContext ctx{scratch.c_str(), scratch.c_str(), geteuid() == 0, nullptr, nullptr};
    if (const OpResult r = p->desc->segment->reclaim(&ctx, key, creator); r.status != OpStatus::ok)
        return left(fmt::format("could not reclaim {} segment key {}: {}", f[0], key, r.message));
    return {};
}

// A segment the kit planted itself (shmget in the harness): no plugin needed.
Outcome undo_shm(const std::vector<std::string>& f) { return reclaim_sysv_outcome(*parse_integer(f[0]), *parse_integer(f[1])); }

Outcome undo_shm_by(const std::vector<std::string>& f) {
    const pid_t pid = static_cast<pid_t>(*parse_integer(f[0]));
    const uid_t uid = static_cast<uid_t>(*parse_integer(f[1]));
    int err = 0;
    const std::vector<int> removed = reclaim_sysv_created_by(pid, uid, &err);
    if (err != 0) return left(fmt::format("could not remove a SysV segment of process {}: {}", pid, std::strerror(err)));
    if (removed.empty()) return {};
    return undone(fmt::format("removed SysV segment(s) {} made by a real server's process {}", fmt::join(removed, ", "), pid));
}

Outcome undo_mount(const std::string& dir) {
    if (umount2(dir.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
        rmdir(dir.c_str());
        return undone(fmt::format("unmounted {}", dir));
    }
    rmdir(dir.c_str());
    return {};
}

Outcome detach_loop(const std::string& node, const std::string& image, bool* gone) {
    const int fd = open(node.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ioctl(fd, LOOP_CLR_FD, 0) != 0) {
        const int err = errno;
        if (fd >= 0) close(fd);
        *gone = err == ENXIO;  // already detached (autoclear)
        return *gone ? Outcome{} : left(fmt::format("could not detach {} from {}: {}", node, image, std::strerror(err)));
    }
    close(fd);
    return undone(fmt::format("detached {} ({})", node, image));
}

// Found by its backing file, which is ours (in our scratch directory): a
// device number recorded before attaching could be reused by anyone. The
// backing file's name is read in /sys/block; where /sys is not mounted (a
// chroot, a container), each /dev/loopN is asked for its backing file's
// device and inode (LOOP_GET_STATUS64), compared with the image's. Neither
// possible: said, never passed over in silence.
Outcome undo_loop(const std::string& image) {
    std::error_code ec;
    if (fs::is_directory("/sys/block", ec)) {
        for (const auto& dev : fs::directory_iterator("/sys/block", ec)) {
            std::ifstream backing(dev.path() / "loop" / "backing_file");
            std::string file;
            if (!std::getline(backing, file) || file != image) continue;
            bool gone = false;
            Outcome o = detach_loop("/dev/" + dev.path().filename().string(), image, &gone);
            if (!gone) return o;
        }
        return {};
    }
    struct stat img{};
    if (stat(image.c_str(), &img) != 0)
        return left(fmt::format("could not find the loop device of {}: no /sys/block here, and the image is gone ({})", image,
                                std::strerror(errno)));
    for (const auto& dev : fs::directory_iterator("/dev", ec)) {
        const std::string name = dev.path().filename().string();
        if (name.size() <= 4 || name.rfind("loop", 0) != 0 || !std::all_of(name.begin() + 4, name.end(), ::isdigit)) continue;
        const int fd = open(dev.path().c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        loop_info64 info{};
        const bool bound = ioctl(fd, LOOP_GET_STATUS64, &info) == 0;
        close(fd);
        if (!bound || info.lo_device != img.st_dev || info.lo_inode != img.st_ino) continue;
        bool gone = false;
        Outcome o = detach_loop(dev.path().string(), image, &gone);
        if (!gone) return o;
    }
    if (ec) return left(fmt::format("could not look for the loop device of {}: no /sys/block, and /dev: {}", image, ec.message()));
    return {};
}

// Take the run's pages away again, whatever other runs added or took meanwhile.
Outcome undo_sysctl_add(const std::vector<std::string>& f) {
    const long delta = static_cast<long>(*parse_integer(f[1]));
    long before = 0, after = 0;
    if (const int err = adjust_sysctl_locked(f[0].c_str(), -delta, &before, &after))
        return left(fmt::format("could not lower {} by {}: {}", f[0], delta, std::strerror(err)));
    return undone(fmt::format("lowered {} by {} to {}", f[0], delta, after));
}

// An absolute change (older kits and plugins): written back only if the file
// still holds what the run wrote, checked again under the lock sysctl-add takes.
Outcome undo_sysctl(const std::vector<std::string>& f) {
    const long old_value = static_cast<long>(*parse_integer(f[1])), new_value = static_cast<long>(*parse_integer(f[2]));
    long seen = -1;
    if (std::ifstream in(f[0]); !(in >> seen) || seen != new_value) return {};  // not ours (any more)
    const int fd = sysctl_lock(f[0].c_str());
    long now = 0;
    int err = fd < 0 ? -fd : sysctl_read(fd, &now);
    const bool ours = err == 0 && now == new_value;
    if (ours) err = sysctl_write(fd, old_value);
    if (fd >= 0) close(fd);
    if (err != 0) return left(fmt::format("could not restore {} to {}: {}", f[0], old_value, std::strerror(err)));
    return ours ? undone(fmt::format("restored {} to {}", f[0], old_value)) : Outcome{};
}

// Removed only if still the directory the run made: ours, not a symlink.
Outcome undo_scratch(const std::string& dir) {
    struct stat st {};
    if (lstat(dir.c_str(), &st) != 0) return {};
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        return {Outcome::gone, fmt::format("left {} alone: not a directory of uid {}, so not the one this run made", dir, geteuid())};
    std::string error;
    if (!remove_tree_same_fs(dir, &error)) return left(fmt::format("could not remove {}: {}", dir, error));
    return undone(fmt::format("removed {}", dir));
}

// Undo one checked entry. Every undo is safe to repeat: a journal kept after
// a `left` outcome is tried again by a later clean.
Outcome undo(const JournalEntry& e, const Registry& registry, const std::string& scratch) {
    const size_t fields = e.kind == "segment" || e.kind == "sysctl" ? 3 : 2;
    const std::vector<std::string> f = split_fields(e.what, fields).value_or(std::vector<std::string>{});
    if (e.kind == "proc") return undo_proc(f);
    if (e.kind == "segment") return undo_segment(f, registry, scratch);
    if (e.kind == "shm") return undo_shm(f);
    if (e.kind == "shm-by") return undo_shm_by(f);
    if (e.kind == "mount") return undo_mount(e.what);
    if (e.kind == "loop") return undo_loop(e.what);
    if (e.kind == "sysctl-add") return undo_sysctl_add(f);
    if (e.kind == "sysctl") return undo_sysctl(f);
    return undo_scratch(e.what);
}

struct UndoResult {
    std::vector<std::string> lines;
    int undone = 0, left = 0, never_made = 0;
    bool keep() const { return left > 0 || never_made > 0; }
};

// Segments whose plugin is not loaded cannot be reclaimed now: one line per
// primitive, not one per segment (a run journals thousands).
std::string not_reclaimed_line(const std::string& primitive, const std::vector<std::string>& keys) {
    const size_t shown = std::min<size_t>(keys.size(), 3);
    return fmt::format("could not reclaim {} {} segment(s) (key {}{}): the {} plugin is not loaded; run ilk clean --plugin-dir "
                       "DIR with the directory that holds it",
                       keys.size(), primitive, fmt::join(keys.begin(), keys.begin() + static_cast<long>(shown), ", "),
                       keys.size() > shown ? ", ..." : "", primitive);
}

bool plugin_missing(const JournalEntry& e, const Registry& registry) {
    if (e.kind != "segment") return false;
    const std::string primitive = e.what.substr(0, e.what.find(' '));
    const Primitive* p = registry.find(primitive);
    return (!p || !p->desc->segment) && !is_plain_sysv(primitive);
}

// Entries the kit never makes are reported first, in file order; then
// processes (they may hold segments and mounts), then the rest newest first.
UndoResult undo_all(const std::vector<CheckedEntry>& entries, const Registry& registry) {
    UndoResult r;
    for (const CheckedEntry& c : entries)
        if (!c.never_made.empty()) {
            ++r.never_made;
            r.lines.push_back(fmt::format("line {}: entry the kit never makes: '{} {}' ({}); left alone: check the journal, then "
                                          "delete it",
                                          c.line, c.e.kind, c.e.what, c.never_made));
        }
    std::map<std::string, std::vector<std::string>> not_reclaimed;  // primitive -> keys
    std::string scratch = "/";  // the run's own scratch directory: its first entry
    for (const CheckedEntry& c : entries)
        if (c.never_made.empty() && c.e.kind == "scratch") {
            scratch = c.e.what;
            break;
        }
    auto run = [&](bool procs) {
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
            if (!it->never_made.empty() || (it->e.kind == "proc") != procs) continue;
            if (plugin_missing(it->e, registry)) {
                const auto f = split_fields(it->e.what, 3);
                not_reclaimed[(*f)[0]].push_back((*f)[1]);
                continue;
            }
            Outcome o = undo(it->e, registry, scratch);
            r.undone += o.state == Outcome::undone;
            r.left += o.state == Outcome::left;
            if (!o.line.empty()) r.lines.push_back(std::move(o.line));
        }
    };
    run(true);
    if (r.undone > 0) usleep(20000);  // let the kernel detach what the killed processes held
    run(false);
    for (const auto& [primitive, keys] : not_reclaimed) {
        r.left += static_cast<int>(keys.size());
        r.lines.push_back(not_reclaimed_line(primitive, keys));
    }
    return r;
}

// The run's parent directory as a normal absolute path (symlinks resolved
// where it exists), so its scratch entries are of the form clean checks.
fs::path normal_parent(const fs::path& parent) {
    std::error_code ec;
    fs::path p = fs::canonical(parent, ec);
    if (ec) p = fs::absolute(parent, ec).lexically_normal();
    if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
    return p;
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
    std::random_device rd;
    const std::string id = fmt::format("{}-{:08x}", getpid(), rd());
    const std::string name = fmt::format("run-{}.journal", id);
    // Made under a name clean_stale_journals() skips, and renamed only once
    // locked: to a concurrent clean an unlocked *.journal is a dead run's, which
    // it would undo and delete while we go on recording into the deleted file.
    const std::string fresh = fmt::format("run-{}.new", id);
    int fd = -1, dir_fd = -1, err = 0;
    // Another run may remove the (empty) state directory between our mkdir and open.
    for (int attempt = 0; attempt < 5 && fd < 0; ++attempt) {
        if (dir_fd >= 0) close(dir_fd);
        dir_fd = open_state_dir(dir, true);
        fd = openat(dir_fd, fresh.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        err = errno;
        if (fd < 0 && err != ENOENT) break;
    }
    if (fd < 0) {
        close(dir_fd);
        throw std::runtime_error(fmt::format("cannot create journal {}: {}", (dir / fresh).string(), std::strerror(err)));
    }
    fchmod(fd, 0600);  // whatever the umask: clean trusts no other mode
    // The lifetime lock that tells later runs this journal's run is alive.
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || renameat(dir_fd, fresh.c_str(), dir_fd, name.c_str()) != 0) {
        err = errno;
        unlinkat(dir_fd, fresh.c_str(), 0);
        close(fd);
        close(dir_fd);
        throw std::runtime_error(fmt::format("cannot lock journal {}: {}", (dir / name).string(), std::strerror(err)));
    }
    close(dir_fd);
    Journal j(dir / name, fd, normal_parent(parent_dir) / fmt::format("ilk-scratch-{}", id));
    j.id_ = id;
    if (!j.record("scratch", j.scratch_.string()) || mkdir(j.scratch_.c_str(), 0755) != 0) {
        err = errno;
        j.finish(Registry{});
        throw std::runtime_error(fmt::format("cannot create scratch directory in {}: {}", parent_dir.string(), std::strerror(err)));
    }
    return j;
}

fs::path Journal::make_scratch(const fs::path& parent, const std::string& stem) const {
    // The only names clean will remove again (is_scratch_name).
    if (stem.rfind("ilk-", 0) != 0 || !is_lower_word(stem.substr(4)))
        throw std::invalid_argument(fmt::format("scratch stem '{}' is not ilk-<lower-case words>", stem));
    const fs::path dir = normal_parent(parent) / fmt::format("{}-{}", stem, id_);
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

std::int32_t Journal::record_for_plugin(void* self, const char* kind, const char* what) {
    // One entry per call: a line break would smuggle in a second one.
    if (!kind || !what || std::strpbrk(kind, "\n\r ") || std::strpbrk(what, "\n\r")) return -1;
    return static_cast<const Journal*>(self)->record(kind, what) ? 0 : -1;
}

std::vector<std::string> Journal::finish(const Registry& registry) {
    const int rd = open(file_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    const std::string text = rd >= 0 ? read_all(rd) : "";
    if (rd >= 0) close(rd);
    UndoResult r = undo_all(read_entries(text, id_), registry);
    if (!r.keep()) unlink(file_.c_str());  // else kept, unlocked: the next run or clean tries again
    else r.lines.push_back(fmt::format("could not undo everything: journal {} is kept for a later ilk clean", file_.string()));
    close(fd_);
    fd_ = -1;
    return r.lines;
}

namespace {

// A journal's lock is held, but the process that began it (its PID is in the
// name, run-<pid>-<random>) is gone: what holds the lock is what that process
// forked without exec (workers, the zygote), on its way out behind a SIGKILLed
// kit. Wait for them to let go, a while; the journal is undone only once its
// lock is ours, so waiting is all this changes. A PID that names a live
// process (the run, or another that reused its PID) is a live run, as before.
constexpr auto kDeadRunsHoldersWait = std::chrono::seconds(10);

bool lock_once_its_run_is_gone(const JournalFile& f) {
    const std::string id = run_id_of(f.name);
    pid_t pid = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), pid);
    if (ec != std::errc() || pid <= 0 || end == id.data() || *end != '-') return false;
    if (kill(pid, 0) == 0 || errno != ESRCH) return false;
    const auto until = std::chrono::steady_clock::now() + kDeadRunsHoldersWait;
    while (std::chrono::steady_clock::now() < until) {
        usleep(20'000);
        if (flock(f.fd, LOCK_EX | LOCK_NB) == 0) return true;
    }
    return false;
}

}  // namespace

std::vector<std::string> clean_stale_journals(const Registry& registry, CleanTally* tally) {
    CleanTally t;
    std::vector<std::string> done;
    const fs::path dir = Journal::state_dir();
    const int dir_fd = open_state_dir(dir, false);
    if (dir_fd < 0) {  // no run ever journaled here
        if (tally) *tally = t;
        return done;
    }
    std::vector<JournalFile> files;
    try {
        files = open_journals(dir_fd, dir);  // all checked before any is acted on
    } catch (...) {
        close(dir_fd);
        throw;
    }
    for (const JournalFile& f : files) {
        if (flock(f.fd, LOCK_EX | LOCK_NB) != 0 && !lock_once_its_run_is_gone(f)) {  // its run is alive
            ++t.live;
            continue;
        }
        const UndoResult r = undo_all(read_entries(read_all(f.fd), run_id_of(f.name)), registry);
        for (const std::string& line : r.lines) done.push_back(fmt::format("{}: {}", f.name, line));
        t.undone += r.undone;
        t.left += r.left;
        t.never_made += r.never_made;
        if (r.keep()) {
            t.kept.push_back(f.name);
            done.push_back(fmt::format("{}: kept for a later ilk clean ({} entr{} not undone)", f.name, r.left + r.never_made,
                                       r.left + r.never_made == 1 ? "y" : "ies"));
        } else if (unlinkat(dir_fd, f.name.c_str(), 0) == 0) {
            ++t.journals_removed;
        }
    }
    close_all(files);
    close(dir_fd);
    if (tally) *tally = t;
    return done;
}

}  // namespace ilk
