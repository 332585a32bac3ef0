// What the cleanup tests look at on the host, read straight from /proc so the
// kit's own code is never the witness of its own cleanup: processes, SysV
// segments, mounts, sysctl values, and journals as written on disk.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ilk_test {

namespace fs = std::filesystem;

// --- processes --------------------------------------------------------------

struct ProcStat {
    pid_t pid = 0;
    pid_t ppid = 0;
    char state = '?';
    unsigned long long start = 0;  // field 22, clock ticks since boot
};

std::optional<ProcStat> proc_stat(pid_t pid);
// The very process that had this start time, still running (a zombie is dead).
bool alive_as(pid_t pid, unsigned long long start);
// Every process whose parent chain leads to root (root excluded).
std::vector<ProcStat> descendants_of(pid_t root);
// Reap every exited child of this process (orphans reparented to us included).
void reap_exited_children();

// Other kits: ilk processes of this host not below self (another user's run,
// another test's). A host-wide value (vm.nr_overcommit_hugepages) they may
// change at any moment cannot be compared before and after while they run:
// the tests check such a value only when none was seen (and never restore it
// over another run's change); what is the run's own (its journal, its keys,
// mounts below its directory) is checked whoever else runs.
class OtherKits {
public:
    explicit OtherKits(pid_t self) : self_(self) {}
    void look();  // note the other kits running now
    bool seen() const { return !seen_.empty(); }
    std::string describe() const;  // "pid 123 (ilk run ...)", for a test's note
private:
    pid_t self_;
    std::map<pid_t, std::string> seen_;
};

// --- SysV segments ------------------------------------------------------------

struct ShmSegment {
    long long key = 0;
    int shmid = -1;
    pid_t cpid = 0;
    long nattch = 0;
    long long ctime = 0;  // creation (or last IPC_SET) time, seconds since the epoch
};

std::vector<ShmSegment> sysv_segments();  // /proc/sysvipc/shm
bool shmid_exists(int shmid);

// --- mounts, files, sysctl ---------------------------------------------------

struct MountInfo {
    fs::path dir;
    std::string type;
};
std::vector<MountInfo> all_mounts();  // /proc/self/mounts, in order
// Mount points at or below dir, deepest first.
std::vector<fs::path> mounts_under(const fs::path& dir);
bool is_mount_point(const fs::path& dir);
bool kernel_has_filesystem(const std::string& type);  // /proc/filesystems
std::optional<long> read_long(const fs::path& file);
std::string read_text(const fs::path& file);
std::vector<std::string> read_lines(const fs::path& file);

// --- journals ------------------------------------------------------------------

struct JournalView {
    struct Proc {
        pid_t pid;
        unsigned long long start;
    };
    struct Segment {
        std::string primitive;  // "shm": a segment the kit planted itself
        long long key;
        pid_t creator;
    };
    struct Sysctl {  // an absolute change, as older kits journaled it
        std::string path, old_value, new_value;
    };
    struct SysctlAdd {  // raised by delta, lowered by delta again
        std::string path;
        long delta;
    };
    std::vector<std::string> lines;
    std::vector<fs::path> scratch, mounts;
    std::vector<Proc> procs;
    std::vector<Segment> segments;
    std::vector<Sysctl> sysctls;
    std::vector<SysctlAdd> sysctl_adds;
};

JournalView parse_journal(const std::vector<std::string>& lines);
std::vector<fs::path> journal_files(const fs::path& state_dir);
// A journal as the kit makes one: the user's own, mode 0600.
void write_journal(const fs::path& file, const std::string& text);

// --- running the ilk binary ---------------------------------------------------

struct Exit {
    bool finished = false;  // false: still running when the wait ended
    bool exited = false;
    int code = -1;
    int signal = 0;
    std::string describe() const;  // "exit code 0", "killed by signal 9", "still running"
};

// fork+exec argv[0] with stdout/stderr to files, extra environment set, in
// its own process group (so a Ctrl-C can be sent to the group, as a terminal
// does); as_uid (root only): run under that uid and gid, with no groups.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
            const fs::path& out, const fs::path& err, uid_t as_uid = 0);

// Wait for pid to end, calling tick about every 10 ms meanwhile.
Exit wait_for(pid_t pid, std::chrono::milliseconds timeout, const std::function<void()>& tick = {});

// Poll pred about every 10 ms until it holds or the time is up.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout, const std::function<void()>& tick = {});

}  // namespace ilk_test
