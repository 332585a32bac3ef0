// Process-identity facts: what kill(pid, 0) proves, and whether the kit can
// make a chosen PID be reused (needed to stage recycled-PID scenarios).
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "pid_choice.h"
#include "probe.h"

namespace ilk {

namespace {

using json = nlohmann::json;

char process_state(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string line;
    std::getline(in, line);
    const size_t paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
}

// A PID that was just in use and is now free: fork a child, reap it.
pid_t freed_pid() {
    const pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(pid, nullptr, 0);
    return pid;
}

json try_ns_last_pid() {
    json e{{"method", "ns_last_pid"}};
    if (geteuid() != 0) {
        e["works"] = false;
        e["reason"] = "needs root (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)";
        return e;
    }
    const pid_t want = freed_pid();
    e["target_pid"] = want;
    int attempts = 0;
    const pid_t got = fork_via_ns_last_pid(want, 5, &attempts);
    if (got == 0) _exit(0);
    if (got > 0) {
        waitpid(got, nullptr, 0);
        e["works"] = true;
        e["attempts"] = attempts;
        return e;
    }
    e["works"] = false;
    e["reason"] = errno == EBUSY ? std::string("the next fork never got the chosen PID in 5 tries")
                                 : fmt::format("write /proc/sys/kernel/ns_last_pid: {}", std::strerror(errno));
    return e;
}

json try_clone3_set_tid() {
    json e{{"method", "clone3_set_tid"}};
    const pid_t want = freed_pid();
    e["target_pid"] = want;
    const pid_t got = clone_with_pid(want);
    if (got == 0) _exit(0);
    if (got < 0) {
        e["works"] = false;
        e["errno"] = errno_name(errno);
        e["reason"] = errno == ENOSYS ? std::string("built without clone3 set_tid support in the headers")
                                      : fmt::format("clone3(set_tid={}): {}", want, std::strerror(errno));
        return e;
    }
    waitpid(got, nullptr, 0);
    e["works"] = got == want;
    if (got != want) e["reason"] = fmt::format("got PID {} instead of {}", got, want);
    return e;
}

}  // namespace

void probe_process(Lab& lab, FactSet& out) {
    auto add = [&](const std::string& name, const std::function<Fact()>& fn) {
        const std::string id = "process." + name;
        Fact f = timed(id, fn);
        f.id = id;
        out[id] = std::move(f);
    };

    add("kill0_reports_zombie_alive", [&] {
        const pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid < 0) return unmeasured_fact("process.kill0_reports_zombie_alive", "fork failed");
        char state = '?';
        for (int i = 0; i < 1000 && (state = process_state(pid)) != 'Z'; ++i) usleep(1000);
        const int rc = kill(pid, 0);
        const int err = errno;
        waitpid(pid, nullptr, 0);
        if (state != 'Z') return unmeasured_fact("process.kill0_reports_zombie_alive", "the child never became a zombie within 1 s");
        return measured_fact("process.kill0_reports_zombie_alive", rc == 0,
                             {{"pid", pid}, {"state", "Z"}, {"kill0", rc == 0 ? "0" : errno_name(err)}});
    });

    add("kill0_foreign_uid_errno", [&] {
        json e = json::object();
        int err = 0;
        if (geteuid() == 0) {
            // Two actors under two uids nobody should be using; only signal 0 is sent.
            Actor target = lab.spawn(), asker = lab.spawn();
            ActorRequest su{ActorCmd::set_uid};
            su.arg = 2147483600;
            if (target.call(su).result.status != OpStatus::ok) throw std::runtime_error("setresuid for the target failed");
            su.arg = 2147483601;
            if (asker.call(su).result.status != OpStatus::ok) throw std::runtime_error("setresuid for the asker failed");
            ActorRequest k{ActorCmd::kill0};
            k.arg = target.pid();
            err = static_cast<int>(asker.call(k).value);
            e = {{"asker_uid", 2147483601}, {"target_uid", 2147483600}, {"target_pid", target.pid()}};
        } else {
            // Not root: ask about PID 1, which belongs to another uid on any normal host.
            struct stat st {};
            if (stat("/proc/1", &st) != 0 || st.st_uid == geteuid())
                return unmeasured_fact("process.kill0_foreign_uid_errno", "not root and no process of another uid to ask about");
            err = kill(1, 0) == 0 ? 0 : errno;
            e = {{"asker_uid", geteuid()}, {"target_uid", st.st_uid}, {"target_pid", 1}};
        }
        e["kill0"] = errno_name(err);
        return measured_fact("process.kill0_foreign_uid_errno", errno_name(err), e);
    });

    add("pid_reuse_methods", [&] {
        json methods = json::array(), attempts = json::array();
        for (json e : {try_ns_last_pid(), try_clone3_set_tid()}) {
            if (e.value("works", false)) methods.push_back(e["method"]);
            attempts.push_back(std::move(e));
        }
        return measured_fact("process.pid_reuse_methods", methods, {{"attempts", attempts}});
    });
}

}  // namespace ilk
