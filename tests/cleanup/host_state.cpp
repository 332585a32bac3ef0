#include "host_state.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace ilk_test {

std::optional<ProcStat> proc_stat(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    const size_t paren = line.rfind(')');  // comm may hold spaces and parens
    if (paren == std::string::npos || paren + 2 >= line.size()) return std::nullopt;
    std::istringstream rest(line.substr(paren + 2));
    ProcStat s;
    s.pid = pid;
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
        if (i == 3) s.state = field[0];
        if (i == 4) s.ppid = static_cast<pid_t>(std::stol(field));
        if (i == 22) s.start = std::stoull(field);
    }
    return s.start ? std::optional(s) : std::nullopt;
}

bool alive_as(pid_t pid, unsigned long long start) {
    const auto s = proc_stat(pid);
    return s && s->start == start && s->state != 'Z' && s->state != 'X';
}

std::vector<ProcStat> descendants_of(pid_t root) {
    std::multimap<pid_t, ProcStat> by_parent;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        if (auto s = proc_stat(static_cast<pid_t>(std::stol(name)))) by_parent.emplace(s->ppid, *s);
    }
    std::vector<ProcStat> out;
    std::vector<pid_t> todo{root};
    while (!todo.empty()) {
        const pid_t parent = todo.back();
        todo.pop_back();
        auto [lo, hi] = by_parent.equal_range(parent);
        for (auto it = lo; it != hi; ++it) {
            out.push_back(it->second);
            todo.push_back(it->second.pid);
        }
    }
    return out;
}

void OtherKits::look() {
    // One pass over /proc: each process's parent and command line, then the
    // chains to self from that same snapshot (a process forked during a
    // second pass would have no known parent, and pass for another's).
    std::map<pid_t, std::pair<pid_t, std::string>> procs;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        const auto st = proc_stat(static_cast<pid_t>(std::stol(name)));
        if (!st) continue;
        procs[st->pid] = {st->ppid, read_text(entry.path() / "cmdline")};  // cmdline: readable for every process, unlike exe
    }
    for (const auto& [pid, proc] : procs) {
        std::string cmdline = proc.second;
        if (cmdline.empty() || fs::path(cmdline.substr(0, cmdline.find('\0'))).filename() != "ilk") continue;
        bool ours = false;
        for (pid_t p = pid; p > 1 && !ours; ) {
            ours = p == self_;
            const auto it = procs.find(p);
            if (it == procs.end()) break;
            p = it->second.first;
        }
        if (ours) continue;
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        seen_.emplace(pid, cmdline.substr(0, 80));
    }
}

std::string OtherKits::describe() const {
    std::string out;
    size_t shown = 0;
    for (const auto& [pid, cmd] : seen_) {
        if (++shown > 2) break;
        out += (out.empty() ? "" : ", ") + ("pid " + std::to_string(pid) + " (" + cmd + ")");
    }
    if (seen_.size() > 2) out += " and " + std::to_string(seen_.size() - 2) + " more";
    return out;
}

void reap_exited_children() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

std::vector<ShmSegment> sysv_segments() {
    std::vector<ShmSegment> out;
    std::ifstream in("/proc/sysvipc/shm");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream f(line);
        ShmSegment s;
        std::string perms, size, lpid, ids[4], atime, dtime;
        if (f >> s.key >> s.shmid >> perms >> size >> s.cpid >> lpid >> s.nattch >> ids[0] >> ids[1] >> ids[2] >> ids[3] >>
            atime >> dtime >> s.ctime)
            out.push_back(s);
    }
    return out;
}

bool shmid_exists(int shmid) {
    const auto all = sysv_segments();
    return std::any_of(all.begin(), all.end(), [&](const ShmSegment& s) { return s.shmid == shmid; });
}

namespace {

// /proc/self/mounts escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount_path(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            const std::string oct = s.substr(i + 1, 3);
            if (std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
                out += static_cast<char>(std::stoi(oct, nullptr, 8));
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

}  // namespace

std::vector<MountInfo> all_mounts() {
    std::vector<MountInfo> out;
    std::ifstream in("/proc/self/mounts");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string source, dir, type;
        if (f >> source >> dir >> type) out.push_back({unescape_mount_path(dir), type});
    }
    return out;
}

bool kernel_has_filesystem(const std::string& type) {
    for (const std::string& line : read_lines("/proc/filesystems")) {
        std::istringstream f(line);
        std::string word, last;
        while (f >> word) last = word;
        if (last == type) return true;
    }
    return false;
}

std::vector<fs::path> mounts_under(const fs::path& dir) {
    std::error_code ec;
    const fs::path base = fs::weakly_canonical(dir, ec);
    const std::string prefix = base.string() + "/";
    std::vector<fs::path> out;
    for (const MountInfo& m : all_mounts())
        if (m.dir == base || m.dir.string().rfind(prefix, 0) == 0) out.push_back(m.dir);
    std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return a.string().size() > b.string().size(); });
    return out;
}

bool is_mount_point(const fs::path& dir) {
    const auto all = all_mounts();
    return std::any_of(all.begin(), all.end(), [&](const MountInfo& m) { return m.dir == dir; });
}

std::optional<long> read_long(const fs::path& file) {
    std::ifstream in(file);
    long v = 0;
    if (!(in >> v)) return std::nullopt;
    return v;
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> read_lines(const fs::path& file) {
    std::vector<std::string> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) out.push_back(line);
    return out;
}

JournalView parse_journal(const std::vector<std::string>& lines) {
    JournalView v;
    v.lines = lines;
    for (const std::string& line : lines) {
        std::istringstream f(line);
        std::string kind;
        f >> kind;
        if (kind == "scratch" || kind == "mount") {
            std::string rest;
            std::getline(f >> std::ws, rest);
            (kind == "scratch" ? v.scratch : v.mounts).emplace_back(rest);
        } else if (kind == "proc") {
            JournalView::Proc p{};
            if (f >> p.pid >> p.start) v.procs.push_back(p);
        } else if (kind == "segment") {
            JournalView::Segment s{};
            if (f >> s.primitive >> s.key >> s.creator) v.segments.push_back(s);
        } else if (kind == "shm") {
            JournalView::Segment s{"shm", 0, 0};
            if (f >> s.key >> s.creator) v.segments.push_back(s);
        } else if (kind == "sysctl") {
            JournalView::Sysctl s;
            if (f >> s.path >> s.old_value >> s.new_value) v.sysctls.push_back(s);
        } else if (kind == "sysctl-add") {
            JournalView::SysctlAdd s{};
            if (f >> s.path >> s.delta) v.sysctl_adds.push_back(s);
        }
    }
    return v;
}

std::vector<fs::path> journal_files(const fs::path& state_dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(state_dir, ec))
        if (entry.path().extension() == ".journal") out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

void write_journal(const fs::path& file, const std::string& text) {
    std::ofstream(file) << text;
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

std::string Exit::describe() const {
    if (!finished) return "still running";
    if (exited) return "exit code " + std::to_string(code);
    return "killed by signal " + std::to_string(signal);
}

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
            const fs::path& out, const fs::path& err, uid_t as_uid) {
    const pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0) setpgid(pid, pid);  // also here: no race with a signal sent right away
        return pid;
    }
    setpgid(0, 0);
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(126);
    close(o);
    close(e);
    if (as_uid != 0 && (setgroups(0, nullptr) != 0 || setresgid(as_uid, as_uid, as_uid) != 0 || setresuid(as_uid, as_uid, as_uid) != 0))
        _exit(125);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    unsetenv("ILK_PLUGIN_PATH");
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
}

Exit wait_for(pid_t pid, std::chrono::milliseconds timeout, const std::function<void()>& tick) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Exit x;
    for (;;) {
        int status = 0;
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            x.finished = true;
            x.exited = WIFEXITED(status);
            x.code = x.exited ? WEXITSTATUS(status) : -1;
            x.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            return x;
        }
        if (r < 0 || std::chrono::steady_clock::now() >= deadline) return x;
        if (tick) tick();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout, const std::function<void()>& tick) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (tick) tick();
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace ilk_test
