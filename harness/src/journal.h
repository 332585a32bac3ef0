// The run journal: every host resource the kit creates (scratch directory,
// mount, sysctl change, segment, process) is written here *before* it is made,
// and undone in reverse order when the run ends. A run that was SIGKILLed
// leaves its journal behind; the next run finds it (its lifetime flock is
// free) and undoes it. Nothing that is not in a journal is ever touched, and
// a journal is only trusted when it is the user's own, in a state directory
// only the user can write, and each entry is of a form the kit makes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

namespace ilk {

class Registry;

struct JournalEntry {
    std::string kind;  // scratch | mount | loop | sysctl-add | sysctl | segment | shm | shm-by | proc
    std::string what;  // kind-specific, see journal.cpp
};

// The state directory or a journal in it is not the user's own and private:
// anyone else could have planted what it names. The message names the path
// and the fix; nothing was touched.
struct UnsafeStateDir : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a clean did, for an honest summary.
struct CleanTally {
    int undone = 0;                 // resources removed, killed, unmounted, detached or restored
    int left = 0;                   // resources that may still be there (their journal is kept)
    int never_made = 0;             // entries of a form the kit never writes: left alone
    int live = 0;                   // journals of runs still going: left alone
    int journals_removed = 0;
    std::vector<std::string> kept;  // journals kept for a later clean
};

class Journal {
public:
    // Where journals live: $ILK_STATE_DIR, else /run/ilk for root, else
    // $XDG_RUNTIME_DIR/ilk or /tmp/ilk-<uid>. It must be a directory (not a
    // symlink) owned by the effective uid with mode 0700; the kit makes it so
    // when it is missing or only readable by others, and refuses to use it
    // otherwise (UnsafeStateDir).
    static std::filesystem::path state_dir();

    // Start a run's journal and its scratch directory under parent_dir
    // (which must exist). Throws UnsafeStateDir, or std::runtime_error with the reason.
    static Journal begin(const std::filesystem::path& parent_dir);

    Journal(Journal&&) noexcept;
    Journal& operator=(Journal&&) = delete;
    ~Journal();

    const std::filesystem::path& scratch() const { return scratch_; }
    const std::filesystem::path& file() const { return file_; }

    // Append one entry. Safe from forked children (O_APPEND, one write).
    bool record(const std::string& kind, const std::string& what) const;
    // record() as the plugin API's ProbeContext::journal hook (self = this
    // journal): 0 when recorded, -1 otherwise.
    static std::int32_t record_for_plugin(void* self, const char* kind, const char* what);

    // A further scratch directory of this run, `<parent>/<stem>-<run id>`,
    // journaled before it is made (a target the user named gets one). The stem
    // is `ilk-` and lower-case words, and must differ from the run's own
    // `ilk-scratch` when parent may be the run's parent directory.
    // Throws std::runtime_error naming the directory and the cause.
    std::filesystem::path make_scratch(const std::filesystem::path& parent, const std::string& stem) const;

    // Undo everything recorded, newest first, then delete the journal (kept,
    // unlocked, if something could not be undone: a later clean tries again,
    // and the last line, "could not undo everything: ...", says so).
    // Returns one line per resource removed or left.
    std::vector<std::string> finish(const Registry& registry);

private:
    Journal(std::filesystem::path file, int fd, std::filesystem::path scratch);
    std::filesystem::path file_;
    int fd_ = -1;
    std::filesystem::path scratch_;
    std::string id_;
};

// Undo the journals of runs that are no longer alive (their flock is free);
// a journal with an entry that could not be undone is kept for the next clean.
// First checks the state directory and every journal in it, and throws
// UnsafeStateDir, touching nothing, if one is not the user's own.
// Returns one line per resource removed or left, prefixed with the journal it
// came from; `tally`, if given, receives the counts.
std::vector<std::string> clean_stale_journals(const Registry& registry, CleanTally* tally = nullptr);

// Start time of a process (field 22 of /proc/PID/stat), 0 if it does not exist.
unsigned long long process_start_time(int pid);

// The children of a process (/proc/PID/task/*/children); empty if it is gone.
std::vector<pid_t> process_children(pid_t pid);

// Remove the SysV segments that process `creator`, running as `uid`, made
// (a real server's, whose key the kit does not choose); their shmids. Sets
// *err (when given) on a failure.
std::vector<int> reclaim_sysv_created_by(pid_t creator, uid_t uid, int* err = nullptr);
// /proc/PID/stat's state letter and start time, read once; nullopt when the process is gone.
struct ProcStat {
    char state;
    unsigned long long start;
    int ppid = 0;
};
std::optional<ProcStat> read_proc_stat(int pid);

// Remove a directory tree without crossing into other filesystems (a mount
// left inside is reported, never descended into). Returns false if anything stayed.
bool remove_tree_same_fs(const std::filesystem::path& dir, std::string* error);

}  // namespace ilk
