#include "engine/server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <utility>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "engine/zygote.h"
#include "ilk/hugepage_support.h"

namespace ilk {

using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {
constexpr auto kGateTimeout = 60s;  // the harness answers in ms; this only bounds a lost harness
constexpr std::size_t kSegmentSize = 64 * 1024;
}  // namespace

Server::Server(Channel& channel, StrategySpec spec, std::string datadir, std::string scratch, json libraries, bool free_running)
    : channel_(channel), spec_(std::move(spec)), datadir_(std::move(datadir)), scratch_(scratch.empty() ? datadir_ : std::move(scratch)),
      spec_libraries_(std::move(libraries)), free_running_(free_running) {}

void Server::gate(const std::string& step, const std::string& on, bool write) {
    if (free_running_) return;
    json m{{"at", step}, {"on", on}, {"w", write}};
    if (!pending_saw_.empty()) m["saw"] = std::exchange(pending_saw_, {});
    if (std::exchange(unchanged_, false)) m["unchanged"] = true;  // of the step before: it only read, after all
    channel_.send(m);
    for (;;) {
        auto m = channel_.receive(kGateTimeout);
        if (!m) _exit(3);  // the harness is gone: nothing to do but vanish
        if (m->value("go", false)) return;
        if (m->contains("ack")) continue;
        if (running_ && m->contains("cmd")) obey(*m);  // a running server waiting at a step still answers
    }
}

void Server::announce_exec(const std::vector<std::string>& args) {
    json m{{"exec", args}};
    if (!pending_saw_.empty()) m["saw"] = std::exchange(pending_saw_, {});
    channel_.send(m);
}

// Sent with the next message, so each step costs the harness one wake-up.
void Server::saw(const std::string& what) {
    if (!free_running_) pending_saw_ = what;
}

void Server::journal(const std::string& kind, const std::string& what) {
    // The harness records it before we create the resource, and acknowledges.
    json m{{"journal", {{"kind", kind}, {"what", what}}}};
    if (!pending_saw_.empty()) m["saw"] = std::exchange(pending_saw_, {});
    channel_.send(m);
    for (;;) {
        auto m = channel_.receive(kGateTimeout);
        if (!m) _exit(3);
        if (m->contains("ack")) return;
    }
}

void Server::require(unsigned reads, const std::string& step) const {
    const StrategyTemplate* t = find_template(spec_.template_name);
    if (t && !(t->reads & reads))
        throw std::logic_error(fmt::format("template {} took step '{}', which reads {}, without declaring it (strategy.cpp)",
                                           t->name, step, reads == kReadsPids ? "a PID" : "segments"));
}

const PrimitiveDescriptor* Server::load_primitive(const std::string& name, PrimitiveKind kind) {
    // The library path comes from the harness's registry, which already vetted it.
    if (name.empty()) return nullptr;
    const std::string library = spec_libraries_.value(name, "");
    if (library.empty()) throw std::runtime_error(fmt::format("no library for primitive '{}'", name));
    const boost::dll::shared_library* lib = preloaded_library(library);  // the zygote loaded it: no dlopen here
    if (!lib) {
        libraries_.push_back(std::make_unique<boost::dll::shared_library>(library, boost::dll::load_mode::rtld_now));
        lib = libraries_.back().get();
    }
    const auto* d = lib->get_alias<const PluginDescriptor*()>("ilk_plugin")();
    for (size_t i = 0; i < d->primitive_count; ++i)
        if (name == d->primitives[i].name && d->primitives[i].kind == kind) return &d->primitives[i];
    throw std::runtime_error(fmt::format("library {} has no primitive '{}'", library, name));
}

PidfileRead parse_pidfile(std::string_view text) {
    PidfileRead r;
    text = text.substr(0, kPidfileReadMax);
    std::vector<std::string_view> lines;
    for (size_t at = 0; at < text.size() && lines.size() < 7;) {
        const size_t nl = text.find('\n', at);
        lines.push_back(text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
        at = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    if (lines.empty() || lines[0].empty()) {
        r.state = PidfileRead::empty;
        return r;
    }
    // Digits only: no sign, no blanks, no "0x"; and a value a pid_t holds, above 0.
    const std::string_view first = lines[0];
    long pid = 0;
    const auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), pid);
    if (first[0] < '0' || first[0] > '9' || ec != std::errc() || end != first.data() + first.size() || pid <= 0 ||
        pid > std::numeric_limits<pid_t>::max()) {
        r.state = PidfileRead::corrupt;
        return r;
    }
    r.pid = pid;
    if (lines.size() >= 7) std::sscanf(std::string(lines[6]).c_str(), "%lld %lld", &r.key, &r.id);
    r.state = PidfileRead::ok;
    return r;
}

PidfileRead Server::read_pidfile(const std::string& step, const std::string& name) {
    gate(step, "file:" + name, false);
    const int fd = ::open(path(name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        PidfileRead r;
        r.state = errno == ENOENT ? PidfileRead::absent : PidfileRead::unreadable;
        r.error = std::strerror(errno);
        saw(r.state == PidfileRead::absent ? "absent" : "unreadable: " + r.error);
        return r;
    }
    std::string text(kPidfileReadMax, '\0');
    size_t got = 0;
    for (ssize_t n; got < text.size() && (n = ::read(fd, text.data() + got, text.size() - got)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            PidfileRead r;
            r.state = PidfileRead::unreadable;
            r.error = std::strerror(errno);
            ::close(fd);
            saw("unreadable: " + r.error);
            return r;
        }
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    const PidfileRead r = parse_pidfile(text);
    if (r.state == PidfileRead::empty) saw("empty");
    else if (r.state == PidfileRead::corrupt) saw("corrupt: first line is not a PID");
    else saw(fmt::format("pid {} key {} id {}", r.pid, r.key, r.id));
    return r;
}

bool Server::create_excl(const std::string& step, const std::string& name, int* fd_out) {
    gate(step, "file:" + name, true);
    const int fd = ::open(path(name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        unchanged_ = true;
        saw(fmt::format("failed: {}", strerrorname_np(errno) ? strerrorname_np(errno) : "?"));
        return false;
    }
    saw("created");
    if (fd_out) {
        *fd_out = fd;
        created_[fd] = name;
    } else {
        const std::string line = fmt::format("{}\n", getpid());
        (void)!::write(fd, line.data(), line.size());
        ::close(fd);
    }
    return true;
}

bool Server::unlink_file(const std::string& step, const std::string& name) {
    gate(step, "file:" + name, true);
    if (::unlink(path(name).c_str()) == 0) {
        saw("deleted");
        return true;
    }
    unchanged_ = true;
    saw(fmt::format("failed: {}", strerrorname_np(errno) ? strerrorname_np(errno) : "?"));
    return false;
}

int Server::kill0(const std::string& step, long pid) {
    require(kReadsPids, step);
    gate(step, "pids", false);  // which process a number names depends on the PID namespace: one object for all
    const int err = ::kill(static_cast<pid_t>(pid), 0) == 0 ? 0 : errno;
    saw(err == 0 ? "alive" : strerrorname_np(err));
    return err;
}

bool Server::write_pidfile(const std::string& step, int fd, long long key, long long id) {
    const auto made = created_.find(fd);  // the file's name when it was made: it may have been replaced since (conservative)
    gate(step, made == created_.end() ? "*" : "file:" + made->second, true);
    const std::string text = fmt::format("{}\n{}\n{}\n5432\n/tmp\n*\n{} {}\n", getpid(), datadir_, time(nullptr), key, id);
    const bool ok = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
                    ::fsync(fd) == 0;
    saw(ok ? "written" : fmt::format("failed: {}", std::strerror(errno)));
    return ok;
}

Server::Lock Server::open_and_lock(const std::string& step, const std::string& name, bool write_pid) {
    if (!lock_) lock_ = load_primitive(spec_.lock, PrimitiveKind::lock);
    gate(step, "file:" + name, true);
    lockfile_ = path(name);
    const bool directory = name == ".";
    const int fd = directory ? ::open(datadir_.c_str(), O_RDONLY | O_DIRECTORY) : ::open(lockfile_.c_str(), O_RDWR | O_CREAT, 0600);
    if (fd < 0) {
        saw(fmt::format("open failed: {}", std::strerror(errno)));
        return Lock::failed;
    }
    const OpResult r = lock_->lock->acquire(fd, 0);
    if (r.status != OpStatus::ok) {
        ::close(fd);
        saw(r.status == OpStatus::busy ? "busy" : fmt::format("failed: {}", r.message));
        return r.status == OpStatus::busy ? Lock::busy : Lock::failed;
    }
    lock_fds_.push_back(fd);
    if (write_pid && !directory) {
        const std::string line = fmt::format("{}\n", getpid());
        (void)!::ftruncate(fd, 0);
        (void)!::pwrite(fd, line.data(), line.size(), 0);
    }
    saw("locked");
    return Lock::locked;
}

bool Server::write_file(const std::string& step, const std::string& name, const std::string& content) {
    gate(step, "file:" + name, true);
    const int fd = ::open(path(name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        unchanged_ = true;
        saw(fmt::format("failed: {}", strerrorname_np(errno) ? strerrorname_np(errno) : "?"));
        return false;
    }
    const bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    ::close(fd);
    saw(ok ? "written" : "short write");
    return ok;
}

bool Server::link_file(const std::string& step, const std::string& from, const std::string& to) {
    gate(step, "file:" + to, true);
    if (::link(path(from).c_str(), path(to).c_str()) == 0) {
        saw("linked");
        return true;
    }
    unchanged_ = true;
    saw(fmt::format("failed: {}", strerrorname_np(errno) ? strerrorname_np(errno) : "?"));
    return false;
}

Server::FileStat Server::stat_file(const std::string& step, const std::string& name) {
    gate(step, "file:" + name, false);
    struct stat st {};
    if (::stat(path(name).c_str(), &st) != 0) {
        saw(fmt::format("failed: {}", strerrorname_np(errno) ? strerrorname_np(errno) : "?"));
        return {};
    }
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    const double age = (now.tv_sec - st.st_mtim.tv_sec) * 1e3 + (now.tv_nsec - st.st_mtim.tv_nsec) / 1e6;
    saw(fmt::format("{} link{}, {:.0f} ms old", st.st_nlink, st.st_nlink == 1 ? "" : "s", age));
    return {static_cast<long>(st.st_nlink), age};
}

void Server::wait_ms(int ms) const {
    if (free_running_ && ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

long long Server::datadir_key() const {
    struct stat st {};
    ::stat(datadir_.c_str(), &st);
    return 0x49000000LL | static_cast<long long>(st.st_ino & 0xffffff);
}

Server::Attach Server::attach_segment(const std::string& step, long long key, long long id) {
    require(kReadsSegments, step);
    if (!segment_) segment_ = load_primitive(spec_.segment, PrimitiveKind::segment);
    gate(step, "segments", true);
    const ProbeContext ctx{datadir_.c_str(), scratch_.c_str(), geteuid() == 0, nullptr, nullptr};
    SegmentRef ref{};
    OpResult r = segment_->segment->lookup(&ctx, key, &ref);
    if (r.status == OpStatus::ok && id >= 0 && (segment_->caps & kSegKeyed) && ref.id != id) {
        saw(fmt::format("key {} now names segment {}, not {}", key, ref.id, id));
        return Attach::absent;
    }
    if (r.status == OpStatus::ok) r = segment_->segment->attach(&ref, &attached_addr_);
    if (r.status == OpStatus::ok) {
        attached_ref_ = ref;
        saw("attached");
        return Attach::attached;
    }
    saw(r.status == OpStatus::not_found ? "absent" : fmt::format("failed: {}", r.message));
    return r.status == OpStatus::not_found ? Attach::absent : Attach::failed;
}

bool Server::segment_header_matches(const std::string& step, long pid) {
    require(kReadsSegments, step);
    gate(step, "segments", false);
    struct stat st {};
    ::stat(datadir_.c_str(), &st);
    const auto* h = static_cast<const SegmentHeader*>(attached_addr_);
    const bool ok = h && h->magic == kSegmentMagic && h->datadir_dev == st.st_dev && h->datadir_ino == st.st_ino &&
                    (pid <= 0 || h->creator_pid == pid);
    saw(ok ? "ours" : "foreign");
    return ok;
}

long long Server::attach_count(const std::string& step) {
    require(kReadsSegments, step);
    gate(step, "segments", false);
    std::int64_t count = -1;
    if (!segment_ || !attached_ref_ || !segment_->segment->attach_count ||
        segment_->segment->attach_count(&*attached_ref_, &count).status != OpStatus::ok) {
        saw("no attach count");
        return -1;
    }
    saw(fmt::format("{} attached", count));
    return count;
}

void Server::detach_segment(const std::string& step) {
    gate(step, "segments", true);
    if (attached_ref_ && attached_addr_) segment_->segment->detach(&*attached_ref_, attached_addr_);
    attached_ref_.reset();
    attached_addr_ = nullptr;
    saw("detached");
}

bool Server::remove_segment(const std::string& step) {
    require(kReadsSegments, step);
    gate(step, "segments", true);
    if (!attached_ref_) {
        saw("nothing attached");
        return false;
    }
    const OpResult r = segment_->segment->remove(&*attached_ref_);
    segment_->segment->detach(&*attached_ref_, attached_addr_);
    attached_ref_.reset();
    attached_addr_ = nullptr;
    saw(r.status == OpStatus::ok ? "removed" : fmt::format("failed: {}", r.message));
    return r.status == OpStatus::ok;
}

namespace {

// Huge pages come and go with other processes' segments (a crashed server's
// is removed a moment later): a create or attach that found none is retried
// for this long before the step is given up as out of resources.
constexpr int kNoMemoryRetries = 20;
constexpr auto kNoMemoryPause = 25ms;

bool out_of_memory(const OpResult& r) { return r.status != OpStatus::ok && (r.err == ENOMEM || r.err == ENOSPC); }

std::string no_resource_text(const std::string& primitive, const OpResult& r) {
    if (primitive.find("huge") == std::string::npos)
        return fmt::format("the machine could not give a {} segment at that moment ({}): raise kernel.shmmni or kernel.shmall",
                           primitive, r.message);
    return fmt::format("the machine could not give a huge page for a {} segment at that moment ({}; HugePages_Free={}): "
                       "raise vm.nr_hugepages or vm.nr_overcommit_hugepages (the kit raises the latter as root)",
                       primitive, r.message, meminfo_field("HugePages_Free"));
}

}  // namespace

Server::Create Server::create_segment(const std::string& step, long long key, bool search, long long* key_out, long long* id_out) {
    require(kReadsSegments, step);
    if (!segment_) segment_ = load_primitive(spec_.segment, PrimitiveKind::segment);
    gate(step, "segments", true);
    const ProbeContext ctx{datadir_.c_str(), scratch_.c_str(), geteuid() == 0, nullptr, nullptr};
    const long long first = key;
    for (int attempt = 0; attempt < (search ? 16 : 1); ++attempt, ++key) {
        journal("segment", fmt::format("{} {} {}", spec_.segment, key, getpid()));
        SegmentRef ref{};
        void* addr = nullptr;
        OpResult r{};
        for (int retry = 0; retry <= kNoMemoryRetries; ++retry) {
            r = segment_->segment->create(&ctx, key, kSegmentSize, &ref);
            if (r.status == OpStatus::ok) {
                r = segment_->segment->attach(&ref, &addr);
                if (r.status != OpStatus::ok) segment_->segment->remove(&ref);
            }
            if (!out_of_memory(r)) break;
            std::this_thread::sleep_for(kNoMemoryPause);
        }
        if (r.status == OpStatus::busy) continue;
        if (out_of_memory(r)) throw NoResource(no_resource_text(spec_.segment, r));
        // The primitive cannot work on this host now (a hugetlbfs segment with no
        // hugetlbfs mounted): the cell cannot be judged here, the strategy did not refuse.
        if (r.status == OpStatus::unsupported)
            throw NoResource(fmt::format("{} cannot make a segment on this host: {}", spec_.segment, r.message));
        if (r.status != OpStatus::ok) {
            saw(fmt::format("failed: {}", r.message));
            return Create::failed;
        }
        struct stat st {};
        ::stat(datadir_.c_str(), &st);
        *static_cast<SegmentHeader*>(addr) = SegmentHeader{kSegmentMagic, getpid(), st.st_dev, st.st_ino};
        own_segment_ = ref;
        attached_ref_ = ref;
        attached_addr_ = addr;
        *key_out = ref.key;
        *id_out = ref.id;
        saw(fmt::format("created key {} id {}", ref.key, ref.id));
        return Create::created;
    }
    saw(search ? fmt::format("failed: keys {} to {} are taken", first, key - 1) : fmt::format("key {} is taken", first));
    return Create::taken;
}

// What a running server would notice of its interlock lost under it (an NFS
// lock the server forgot, a lease that expired): I/O through the descriptors
// it holds its locks on, or through its pidfile when it holds none. Each byte
// read is written back as it was, then fsync: "read ok, write ok, fsync EIO".
namespace {
const char* errno_name(int e) {
    const char* n = strerrorname_np(e);
    return n ? n : "E?";
}
}  // namespace

std::string Server::observe() {
    std::vector<int> fds = lock_fds_;
    const int pidfile = fds.empty() ? ::open(path("postmaster.pid").c_str(), O_RDWR | O_CLOEXEC) : -1;
    if (fds.empty() && pidfile < 0) return fmt::format("open postmaster.pid: {}", errno_name(errno));
    if (pidfile >= 0) fds.push_back(pidfile);
    std::string out;
    auto note = [&](const char* op, bool ok) {
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", op, ok ? "ok" : errno_name(errno));
        return ok;
    };
    for (int fd : fds) {
        char byte = 0;
        const ssize_t n = ::pread(fd, &byte, 1, 0);
        if (!note("read", n >= 0)) continue;
        if (n == 1 && !note("write", ::pwrite(fd, &byte, 1, 0) == 1)) continue;
        note("fsync", ::fsync(fd) == 0);
    }
    if (pidfile >= 0) note("close", ::close(pidfile) == 0);
    return out;
}

void Server::serve(const StartResult& result) {
    if (!result.running) {
        if (own_segment_ && segment_) segment_->segment->remove(&*own_segment_);  // made before a later step failed
        channel_.send({{"state", "refused"}, {"why", result.why}, {"saw", pending_saw_}});
        _exit(0);
    }
    // Backends: children that inherit every fd (lock included) and the segment
    // attachment, and outlive us if we crash, as a real server's do.
    for (int i = 0; i < spec_.backends; ++i) {
        const pid_t pid = fork();
        if (pid == 0) {
            ::close(channel_.fd());
            signal(SIGTERM, SIG_DFL);
            // Outlive a crash of this server, as real backends do, but not the run.
            pollfd life{lifeline_fd(), POLLIN, 0};
            for (;;) {
                if (life.fd < 0) pause();
                else if (poll(&life, 1, -1) > 0) _exit(0);  // hang-up: the zygote is gone
            }
        }
        if (pid > 0) backend_pids_.push_back(pid);
    }
    running_ = true;
    json running{{"state", "running"}, {"backends", backend_pids_}, {"saw", std::exchange(pending_saw_, {})}};
    if (spec_.rechecks > 0 && !free_running_) running["steps"] = true;  // its next message is a gate
    channel_.send(running);
    // PostgreSQL's RecheckDataDirLockFile: a running server re-reads its
    // pidfile and shuts down at once when it is gone or names another PID.
    for (int i = 1; i <= spec_.rechecks; ++i) {
        if (free_running_) {
            const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(spec_.recheck_ms);
            while (std::chrono::steady_clock::now() < until) {
                auto m = channel_.receive(std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()));
                if (m) obey(*m);
                else if (channel_.why() != "timed out") _exit(0);
            }
        }
        const PidfileRead now = read_pidfile(fmt::format("recheck postmaster.pid ({} of {})", i, spec_.rechecks), "postmaster.pid");
        if (now.state == PidfileRead::absent || (now.state == PidfileRead::ok && now.pid != getpid())) {
            const std::string why = now.state == PidfileRead::absent
                                        ? "postmaster.pid is gone: shutting down at once"
                                        : fmt::format("postmaster.pid names PID {}, not ours: shutting down at once", now.pid);
            shut_down();
            channel_.send({{"state", "stopped"}, {"why", why}, {"saw", std::exchange(pending_saw_, {})}});
            _exit(0);
        }
    }
    if (spec_.rechecks > 0 && !free_running_) channel_.send({{"steps_done", true}, {"saw", std::exchange(pending_saw_, {})}});
    for (;;) {
        auto m = channel_.receive(std::chrono::hours(24));
        if (!m) _exit(0);
        obey(*m);
    }
}

// A server that shuts down (asked to, or on its recheck) takes its backends
// and its own segment with it.
void Server::shut_down() {
    for (pid_t pid : backend_pids_) ::kill(pid, SIGKILL);
    for (pid_t pid : backend_pids_) waitpid(pid, nullptr, 0);
    if (own_segment_) {
        if (attached_addr_) segment_->segment->detach(&*own_segment_, attached_addr_);
        segment_->segment->remove(&*own_segment_);
    }
}

void Server::obey(const json& m) {
    const std::string cmd = m.value("cmd", "");
    if (cmd == "touch-lockfile") {
        // Another part of the program opens and closes the lockfile.
        const std::string file = lockfile_.empty() ? path("postmaster.pid") : lockfile_;
        const int fd = ::open(file.c_str(), O_RDONLY);
        if (fd >= 0) ::close(fd);
        channel_.send({{"done", cmd}});
    } else if (cmd == "observe") {
        channel_.send({{"done", cmd}, {"saw", observe()}});
    } else if (cmd == "shutdown") {
        shut_down();
        std::ifstream in(path("postmaster.pid"));
        long pid = 0;
        if (in >> pid && pid == getpid()) ::unlink(path("postmaster.pid").c_str());
        std::string closed;
        for (int fd : lock_fds_)
            if (::close(fd) != 0) closed += fmt::format("{}close: {}", closed.empty() ? "" : ", ", errno_name(errno));
        channel_.send({{"done", cmd}, {"saw", closed.empty() ? "closed its files" : closed}});
        _exit(0);
    } else if (cmd == "exit") {
        _exit(0);
    }
}

}  // namespace ilk

namespace ilk {

int contender_main(int channel_fd) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a contender never outlives the harness (its backends may)
    signal(SIGINT, SIG_IGN);           // Ctrl-C is the harness's to handle
    Channel channel(channel_fd);
    auto hello = channel.receive(std::chrono::seconds(30));
    if (!hello) return 3;
    try {
        const StrategySpec spec = (*hello)["spec"].get<StrategySpec>();
        const StrategyTemplate* t = find_template(spec.template_name);
        if (!t) throw std::runtime_error("unknown strategy template '" + spec.template_name + "'");
        Server server(channel, spec, (*hello)["datadir"].get<std::string>(), hello->value("scratch", ""), (*hello)["libraries"],
                      hello->value("free", false));
        server.serve(t->start(server));
    } catch (const NoResource& e) {
        channel.send({{"state", "no-resource"}, {"why", e.what()}});
        return 1;
    } catch (const std::exception& e) {
        channel.send({{"state", "error"}, {"why", e.what()}});
        return 1;
    }
}

}  // namespace ilk
