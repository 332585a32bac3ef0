// The contender side: a would-be server running one strategy against a data
// directory, one gated step at a time. Every syscall on the shared state sits
// behind a gate, where the harness decides who moves next.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include "engine/channel.h"
#include "engine/strategy.h"
#include "ilk/plugin.h"

namespace ilk {

// What reading a pidfile found.
struct PidfileRead {
    enum State { absent, unreadable, empty, corrupt, ok } state = absent;
    long pid = 0;
    long long key = -1, id = -1;  // line 7: shared-memory key and id, -1 if none
    std::string error;
};

// A pidfile's text as PostgreSQL's lock file lays it out: the PID on line 1,
// "key id" of the shared-memory segment on line 7. Whatever wrote it (a
// crashed or hostile process), the text is data: the first line is a PID only
// if it is a whole decimal number a process can have (1 .. INT_MAX), as
// PostgreSQL calls anything else "bogus data in lock file"; else corrupt.
// Only the first kPidfileReadMax bytes count.
inline constexpr std::size_t kPidfileReadMax = 4096;
PidfileRead parse_pidfile(std::string_view text);

// The header a server writes into its segment, to recognise it later.
struct SegmentHeader {
    std::uint32_t magic;
    std::int32_t creator_pid;
    std::uint64_t datadir_dev, datadir_ino;
};
inline constexpr std::uint32_t kSegmentMagic = 0x494C4B53;  // "ILKS"

// The machine could not give what a step needs at that moment (a huge page):
// not the strategy's fault nor the kit's. The scenario is UNSUPPORTED here,
// with the reason and what to raise.
struct NoResource : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Server {
public:
    // libraries: primitive name -> plugin library path (from the harness's registry).
    // scratch: the run's scratch directory on this host, where its primitives'
    // mounts are (empty: none known, the data directory stands in).
    Server(Channel& channel, StrategySpec spec, std::string datadir, std::string scratch, nlohmann::json libraries, bool free_running);

    const StrategySpec& spec() const { return spec_; }
    const std::string& datadir() const { return datadir_; }
    std::string path(const std::string& name) const { return datadir_ + "/" + name; }

    // Wait at a step boundary until the harness says go; then the caller acts
    // and reports what it saw with saw(). `on` names the shared object the step
    // touches ("file:NAME", "pids", "segments"; "*": anything) and `write`
    // whether it may change it: the explorer's partial-order reduction treats
    // steps of different contenders on different objects, or both reading, as
    // commuting. Say too little here and the reduction is unsound.
    void gate(const std::string& step, const std::string& on = "*", bool write = true);
    void saw(const std::string& what);

    // --- gated operations (each is one step) ---
    PidfileRead read_pidfile(const std::string& step, const std::string& name);
    bool create_excl(const std::string& step, const std::string& name, int* fd_out = nullptr);  // false: exists/failed
    bool unlink_file(const std::string& step, const std::string& name);  // false: ENOENT or failed
    int kill0(const std::string& step, long pid);                      // 0 or errno
    // Write pid / datadir / start time / port / socket dir / listen addr / "key id" and fsync.
    bool write_pidfile(const std::string& step, int fd, long long key, long long id);
    // Open (creating it) and lock with the lock primitive, without waiting;
    // write our PID into it if asked. "." is the data directory itself,
    // opened O_RDONLY|O_DIRECTORY (a lock that needs a writable fd fails there).
    enum class Lock { locked, busy, failed };  // failed: the file could not be opened, or the primitive failed
    Lock open_and_lock(const std::string& step, const std::string& name, bool write_pid = true);
    // Create or truncate a file and write `content` into it (a pidfile for people).
    bool write_file(const std::string& step, const std::string& name, const std::string& content);
    // link(2) `from` to `to`: false when it failed (EEXIST, say): the caller checks link counts, as on NFS.
    bool link_file(const std::string& step, const std::string& from, const std::string& to);
    // stat(2): the file's link count and age in ms; nlink 0 when it is absent.
    struct FileStat { long nlink = 0; double age_ms = 0; };
    FileStat stat_file(const std::string& step, const std::string& name);
    // Time passing between steps (a retry's sleep): slept on a free-running
    // schedule; on a gated one the explorer decides what happens meanwhile.
    void wait_ms(int ms) const;
    // Segment primitive.
    enum class Attach { absent, failed, attached };
    Attach attach_segment(const std::string& step, long long key, long long id);
    bool segment_header_matches(const std::string& step, long pid);  // of the attached segment
    long long attach_count(const std::string& step);                  // -1 if the primitive has none
    void detach_segment(const std::string& step);
    bool remove_segment(const std::string& step);
    // Create our segment under key (or, with search, the first free key from
    // key on); fills key/id. `taken`: the key (every key searched) holds a segment.
    // Throws NoResource when the machine cannot give the memory at that moment.
    enum class Create { created, taken, failed };
    Create create_segment(const std::string& step, long long key, bool search, long long* key_out, long long* id_out);
    // The first key to try: from the data directory's inode, as PostgreSQL does,
    // kept in the kit's 0x49xxxxxx range.
    long long datadir_key() const;

    // The `command` template: tell the harness this process becomes `args` now
    // (its state is observed from outside from then on).
    void announce_exec(const std::vector<std::string>& args);

    StartResult refuse(const std::string& why) { return {false, why}; }
    StartResult running() { return {true, {}}; }

    // After start: fork backends, report, obey commands until told to stop.
    [[noreturn]] void serve(const StartResult& result);

private:
    const PrimitiveDescriptor* load_primitive(const std::string& name, PrimitiveKind kind);
    void journal(const std::string& kind, const std::string& what);
    void require(unsigned reads, const std::string& step) const;  // the template declared it (TemplateReads)

    Channel& channel_;
    StrategySpec spec_;
    std::string datadir_;
    std::string scratch_;
    nlohmann::json spec_libraries_;
    bool free_running_;
    std::vector<std::unique_ptr<boost::dll::shared_library>> libraries_;
    const PrimitiveDescriptor* lock_ = nullptr;
    const PrimitiveDescriptor* segment_ = nullptr;
    std::string observe();             // command "observe": I/O through what it holds
    void obey(const nlohmann::json& m);  // a command to a running server
    void shut_down();              // SIGKILL and reap our backends, remove our segment
    std::vector<pid_t> backend_pids_;
    bool running_ = false;
    std::vector<int> lock_fds_;        // held for life, inherited by backends
    std::optional<SegmentRef> attached_ref_;
    void* attached_addr_ = nullptr;
    std::optional<SegmentRef> own_segment_;
    std::string lockfile_;             // the file a lifetime lock is on
    std::map<int, std::string> created_;  // fd -> the name it was created under (create_excl)
    std::string pending_saw_;          // what the last step saw, sent with the next message
    bool unchanged_ = false;           // the last step changed nothing (a failed create or delete, a busy lock): sent with the next gate
};

// `ilk contender --fd N`: the contender role's main.
int contender_main(int channel_fd);

// In a contender, at its last step: become `args` (exec; searched on PATH
// when search_path), its output to `out`, every other descriptor closed (the
// channel and the lifeline too: the program knows nothing of the kit). A
// failed exec writes why to `out` and exits 127. Its environment is `env`
// when given, else the contender's.
[[noreturn]] void become_program(std::vector<std::string> args, int out, bool search_path, const std::vector<std::string>* env = nullptr);

}  // namespace ilk
