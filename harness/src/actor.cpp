#include "actor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "fdpass.h"
#include "interrupt.h"
#include "journal.h"
#include "registry.h"
#include "sandbox.h"

namespace ilk {

std::atomic<bool> g_interrupted{false};

namespace {
void on_interrupt(int) { g_interrupted = true; }
}  // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
}

namespace {

OpResult sys_fail(const char* what) { return op_errno(what, errno); }

void close_other_fds(int keep) {
    if (keep > 3) close_range(3, static_cast<unsigned>(keep - 1), 0);
    close_range(static_cast<unsigned>(keep + 1), ~0U, 0);
}

struct ActorState {
    const Registry& registry;
    std::map<std::int64_t, std::pair<SegmentRef, void*>> attached;  // by segment id/key
};

const PrimitiveDescriptor* need(const Registry& r, const ActorRequest& req, PrimitiveKind kind, ActorReply& reply) {
    const Primitive* p = r.find(req.primitive);
    if (!p || p->desc->kind != kind) {
        reply.result = op_fail(OpStatus::error, 0, "actor: no %s primitive named '%s'",
                               kind == PrimitiveKind::lock ? "lock" : "segment", req.primitive);
        return nullptr;
    }
    return p->desc;
}

std::int64_t ref_slot(const SegmentRef& ref) { return ref.id >= 0 ? ref.id : ref.key; }

// Returns the fd to pass along with the reply (fork_actor), else -1.
int handle(ActorState& st, const ActorRequest& req, ActorReply& reply, int& channel) {
    reply.result = op_ok();
    const ProbeContext ctx{"/", "/", geteuid() == 0, nullptr, nullptr};
    switch (req.cmd) {
    case ActorCmd::open_file: {
        const int fd = ::open(req.path, req.arg, 0600);
        if (fd < 0) reply.result = sys_fail("open");
        reply.value = fd;
        return -1;
    }
    case ActorCmd::close_fd:
        if (::close(req.fd) != 0) reply.result = sys_fail("close");
        return -1;
    case ActorCmd::lock:
        if (auto* d = need(st.registry, req, PrimitiveKind::lock, reply)) reply.result = d->lock->acquire(req.fd, req.arg);
        return -1;
    case ActorCmd::unlock:
        if (auto* d = need(st.registry, req, PrimitiveKind::lock, reply)) reply.result = d->lock->release(req.fd);
        return -1;
    case ActorCmd::query:
        if (auto* d = need(st.registry, req, PrimitiveKind::lock, reply)) {
            reply.result = d->lock->query ? d->lock->query(req.fd)
                                          : op_fail(OpStatus::unsupported, 0, "%s has no query", req.primitive);
        }
        return -1;
    case ActorCmd::fork_actor: {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
            reply.result = sys_fail("socketpair");
            return -1;
        }
        const pid_t pid = fork();
        if (pid < 0) {
            reply.result = sys_fail("fork");
            close(sv[0]);
            close(sv[1]);
            return -1;
        }
        if (pid == 0) {  // the new actor: same fds, locks and mappings, its own channel
            close(sv[0]);
            close(channel);
            channel = sv[1];
            reply.value = -1;  // tells the caller loop to continue silently
            return -2;
        }
        close(sv[1]);
        reply.value = pid;
        return sv[0];
    }
    case ActorCmd::seg_create:
        if (auto* d = need(st.registry, req, PrimitiveKind::segment, reply))
            reply.result = d->segment->create(&ctx, req.key, req.size, &reply.ref);
        return -1;
    case ActorCmd::seg_lookup:
        if (auto* d = need(st.registry, req, PrimitiveKind::segment, reply))
            reply.result = d->segment->lookup(&ctx, req.key, &reply.ref);
        return -1;
    case ActorCmd::seg_attach:
        if (auto* d = need(st.registry, req, PrimitiveKind::segment, reply)) {
            void* addr = nullptr;
            reply.result = d->segment->attach(&req.ref, &addr);
            if (reply.result.status == OpStatus::ok) st.attached[ref_slot(req.ref)] = {req.ref, addr};
        }
        return -1;
    case ActorCmd::seg_detach:
        if (auto* d = need(st.registry, req, PrimitiveKind::segment, reply)) {
            auto it = st.attached.find(ref_slot(req.ref));
            if (it == st.attached.end()) {
                reply.result = op_fail(OpStatus::error, 0, "actor: segment not attached here");
            } else {
                reply.result = d->segment->detach(&it->second.first, it->second.second);
                st.attached.erase(it);
            }
        }
        return -1;
    case ActorCmd::seg_count:
        if (auto* d = need(st.registry, req, PrimitiveKind::segment, reply)) {
            reply.result = d->segment->attach_count
                               ? d->segment->attach_count(&req.ref, &reply.value)
                               : op_fail(OpStatus::unsupported, 0, "%s keeps no attach count", req.primitive);
        }
        return -1;
    case ActorCmd::seg_remove:
        if (auto* d = need(st.registry, req, PrimitiveKind::segment, reply)) reply.result = d->segment->remove(&req.ref);
        return -1;
    case ActorCmd::kill0:
        reply.value = ::kill(req.arg, 0) == 0 ? 0 : errno;
        return -1;
    case ActorCmd::set_uid:
        if (setresgid(req.arg, req.arg, req.arg) != 0 || setresuid(req.arg, req.arg, req.arg) != 0)
            reply.result = sys_fail("setresuid");
        return -1;
    case ActorCmd::exit_now:
        _exit(0);
    }
    reply.result = op_fail(OpStatus::error, 0, "actor: unknown command %u", static_cast<unsigned>(req.cmd));
    return -1;
}

}  // namespace

[[noreturn]] void actor_main(const Registry& registry, int channel) {
    signal(SIGCHLD, SIG_IGN);  // children of an actor reap themselves
    signal(SIGINT, SIG_IGN);   // Ctrl-C is the harness's to handle
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_IGN);
    ActorState st{registry, {}};
    for (;;) {
        ActorRequest req{};
        const ssize_t n = recv(channel, &req, sizeof req, 0);
        if (n == 0) _exit(0);  // the harness closed the channel
        if (n < 0 && errno == EINTR) continue;
        if (n != static_cast<ssize_t>(sizeof req)) _exit(4);
        ActorReply reply{};
        const int pass = handle(st, req, reply, channel);
        if (pass == -2) continue;  // we are the new forked actor; the parent answers
        send_with_fd(channel, &reply, sizeof reply, pass);
        if (pass >= 0) close(pass);
    }
}

Actor Actor::spawn(const Registry& registry, const Journal* journal) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        close_other_fds(sv[1]);
        actor_main(registry, sv[1]);
    }
    close(sv[1]);
    if (journal) journal->record("proc", fmt::format("{} {}", pid, process_start_time(pid)));
    return Actor(pid, sv[0], true);
}

Actor::Actor(Actor&& o) noexcept : pid_(o.pid_), channel_(o.channel_), own_child_(o.own_child_), end_(std::move(o.end_)) {
    o.pid_ = -1;
    o.channel_ = -1;
}

Actor& Actor::operator=(Actor&& o) noexcept {
    if (this != &o) {
        kill_now();
        pid_ = o.pid_;
        channel_ = o.channel_;
        own_child_ = o.own_child_;
        end_ = std::move(o.end_);
        o.pid_ = -1;
        o.channel_ = -1;
    }
    return *this;
}

Actor::~Actor() { kill_now(); }

void Actor::reap(bool block) {
    if (pid_ <= 0 || !end_.empty()) return;
    int status = 0;
    // Our own child, or an actor's child reparented to us (we are a subreaper).
    for (int i = 0; i < (block ? 400 : 1); ++i) {
        const pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            end_ = WIFSIGNALED(status) ? fmt::format("killed by {}", signal_name(WTERMSIG(status)))
                                       : fmt::format("exit code {}", WEXITSTATUS(status));
            return;
        }
        if (r < 0 && errno == ECHILD && ::kill(pid_, 0) != 0) {  // reaped by its own parent actor
            end_ = "gone";
            return;
        }
        if (block) usleep(i < 50 ? 200 : 5000);
    }
}

void Actor::kill_now(int sig) {
    if (channel_ >= 0) {
        close(channel_);
        channel_ = -1;
    }
    if (pid_ > 0 && end_.empty()) {
        ::kill(pid_, sig);
        if (sig == SIGKILL) reap(true);
    }
}

bool Actor::send(const ActorRequest& req) {
    return channel_ >= 0 && ::send(channel_, &req, sizeof req, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof req);
}

ActorReply Actor::wait_reply(std::chrono::milliseconds timeout) {
    ActorReply reply{};
    if (channel_ < 0) {
        reply.result = op_fail(OpStatus::error, 0, "actor %d is gone", pid_);
        return reply;
    }
    pollfd p{channel_, POLLIN, 0};
    int n = -1;
    while (!g_interrupted.load()) {
        n = poll(&p, 1, static_cast<int>(timeout.count()));
        if (n >= 0 || errno != EINTR) break;
    }
    if (n < 0) {
        reply.result = op_fail(OpStatus::error, EINTR, "interrupted");
        return reply;
    }
    if (n == 0) {
        reply.result = op_fail(OpStatus::error, ETIMEDOUT, "timed out after %lld ms", static_cast<long long>(timeout.count()));
        return reply;
    }
    const ssize_t got = recv(channel_, &reply, sizeof reply, 0);
    if (got != static_cast<ssize_t>(sizeof reply)) {
        reap(true);
        reply = ActorReply{};
        reply.result = op_fail(OpStatus::error, 0, "actor %d died (%s)", pid_, end_.empty() ? "no reply" : end_.c_str());
    }
    return reply;
}

ActorReply Actor::call(const ActorRequest& req, std::chrono::milliseconds timeout) {
    if (!send(req)) {
        ActorReply reply{};
        reply.result = op_fail(OpStatus::error, 0, "cannot reach actor %d", pid_);
        return reply;
    }
    return wait_reply(timeout);
}

namespace {
ActorRequest make(ActorCmd cmd, const std::string& primitive = {}, int fd = -1, int arg = 0) {
    ActorRequest r{cmd};
    r.fd = fd;
    r.arg = arg;
    std::snprintf(r.primitive, sizeof r.primitive, "%s", primitive.c_str());
    return r;
}
}  // namespace

int Actor::open(const std::string& path, int flags) {
    ActorRequest r = make(ActorCmd::open_file, {}, -1, flags);
    std::snprintf(r.path, sizeof r.path, "%s", path.c_str());
    const ActorReply reply = call(r);
    return reply.result.status == OpStatus::ok ? static_cast<int>(reply.value) : -1;
}

OpResult Actor::close_fd(int fd) { return call(make(ActorCmd::close_fd, {}, fd)).result; }
OpResult Actor::lock(const std::string& p, int fd, bool wait) { return call(make(ActorCmd::lock, p, fd, wait)).result; }
OpResult Actor::unlock(const std::string& p, int fd) { return call(make(ActorCmd::unlock, p, fd)).result; }
OpResult Actor::query(const std::string& p, int fd) { return call(make(ActorCmd::query, p, fd)).result; }

Actor Actor::fork_child(const Journal& journal) {
    if (!send(make(ActorCmd::fork_actor))) throw std::runtime_error("cannot reach actor to fork it");
    ActorReply reply{};
    int fd = -1;
    pollfd p{channel_, POLLIN, 0};
    if (poll(&p, 1, 3000) <= 0 || recv_with_fd(channel_, &reply, sizeof reply, &fd) != static_cast<ssize_t>(sizeof reply) ||
        reply.result.status != OpStatus::ok) {
        if (fd >= 0) close(fd);
        throw std::runtime_error(fmt::format("actor {} could not fork: {}", pid_, reply.result.message));
    }
    if (fd < 0) throw std::runtime_error("forked actor's channel did not arrive");
    const pid_t pid = static_cast<pid_t>(reply.value);
    journal.record("proc", fmt::format("{} {}", pid, process_start_time(pid)));
    return Actor(pid, fd, false);
}

}  // namespace ilk

namespace ilk {

namespace {

template <size_t N>
void copy_text(char (&to)[N], const std::string& from) {
    std::snprintf(to, N, "%s", from.c_str());
}

nlohmann::json ref_json(const SegmentRef& r) { return {{"key", r.key}, {"id", r.id}, {"size", r.size}, {"path", r.path}}; }

SegmentRef ref_from(const nlohmann::json& j) {
    SegmentRef r{j.value("key", 0LL), j.value("id", -1LL), j.value("size", 0ull), {}};
    copy_text(r.path, j.value("path", ""));
    return r;
}

}  // namespace

nlohmann::json to_json(const ActorRequest& r) {
    return {{"cmd", static_cast<std::uint32_t>(r.cmd)}, {"fd", r.fd}, {"arg", r.arg}, {"key", r.key}, {"size", r.size},
            {"primitive", r.primitive}, {"path", r.path}, {"ref", ref_json(r.ref)}};
}

ActorRequest request_from_json(const nlohmann::json& j) {
    const auto cmd = j.value("cmd", 0u);
    if (cmd > static_cast<std::uint32_t>(ActorCmd::exit_now)) throw std::runtime_error(fmt::format("unknown actor command {}", cmd));
    ActorRequest r{static_cast<ActorCmd>(cmd)};
    r.fd = j.value("fd", -1);
    r.arg = j.value("arg", 0);
    r.key = j.value("key", 0LL);
    r.size = j.value("size", 0ull);
    copy_text(r.primitive, j.value("primitive", ""));
    copy_text(r.path, j.value("path", ""));
    r.ref = ref_from(j.value("ref", nlohmann::json::object()));
    return r;
}

nlohmann::json to_json(const ActorReply& r) {
    return {{"status", static_cast<std::int32_t>(r.result.status)}, {"err", r.result.err}, {"message", r.result.message},
            {"value", r.value}, {"ref", ref_json(r.ref)}};
}

ActorReply reply_from_json(const nlohmann::json& j) {
    ActorReply r;
    const auto status = j.value("status", static_cast<std::int32_t>(OpStatus::error));
    r.result.status = status >= 0 && status <= static_cast<std::int32_t>(OpStatus::error) ? static_cast<OpStatus>(status) : OpStatus::error;
    r.result.err = j.value("err", 0);
    copy_text(r.result.message, j.value("message", ""));
    r.value = j.value("value", 0LL);
    r.ref = ref_from(j.value("ref", nlohmann::json::object()));
    return r;
}

}  // namespace ilk
