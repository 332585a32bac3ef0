// `ilk agent`: one host of a run, driven by the harness over one byte stream
// (standard input and output, or --fd). It runs nothing of the test's logic:
// it starts contenders with its own zygote, relays their messages, and answers
// questions about its own processes and segments (agent_protocol.h).
#include "host/agent_main.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "actor.h"
#include "engine/channel.h"
#include "journal.h"
#include "host/agent_protocol.h"
#include "host/files.h"
#include "host/local_host.h"
#include "registry.h"

namespace ilk {

using json = nlohmann::json;

namespace {

// The whole of a file, at most kMax bytes of it (with a note when cut).
std::string slurp(int fd) {
    constexpr size_t kMax = 256 * 1024;
    std::string out;
    char buf[8192];
    lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > kMax) {
            out.resize(kMax);
            out += "\n[cut at 256 KiB]";
            break;
        }
    }
    return out;
}

// op exec: argv in its own process group, its output in unlinked files (no
// pipe to drain while waiting), ended with its group at the timeout (before it
// is reaped, so the group is still its own). A daemon it starts stays.
json run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    if (argv.empty()) throw std::runtime_error("exec: empty argv");
    int files[2];
    for (int& f : files) {
        char name[] = "/tmp/ilk-agent-exec.XXXXXX";
        f = mkostemp(name, O_CLOEXEC);
        if (f < 0) throw std::runtime_error(fmt::format("exec: cannot make a file for its output: {}", std::strerror(errno)));
        unlink(name);
    }
    const pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        const int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(files[0], 1);
        dup2(files[1], 2);
        std::vector<char*> args;
        for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        dprintf(2, "cannot run %s: %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    if (pid < 0) {
        for (int f : files) ::close(f);
        throw std::runtime_error(fmt::format("exec: fork: {}", std::strerror(errno)));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0, rc = -1;
    for (;;) {
        const pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, nullptr, 0);
            break;
        }
        usleep(10000);
    }
    json out{{"rc", rc}, {"out", slurp(files[0])}, {"err", slurp(files[1])}};
    for (int f : files) ::close(f);
    return out;
}

ProcessId process_of(const json& m) { return {m.value("pid", -1), m.value("start", 0ull)}; }

class Agent {
public:
    Agent(Channel& harness, const Registry& registry)
        : harness_(harness), registry_(registry), host_(registry, nullptr, "/proc/self/exe") {}

    // Until the harness goes away or says bye.
    int serve() {
        for (;;) {
            std::vector<pollfd> fds{{harness_.fd(), POLLIN, 0}};
            std::vector<int> ids{-1};
            for (const auto& [id, link] : contenders_) {
                fds.push_back({link->poll_fd(), POLLIN, 0});
                ids.push_back(id);
            }
            const bool buffered = harness_.has_buffered() || std::any_of(contenders_.begin(), contenders_.end(), [](const auto& c) {
                                      return c.second->has_buffered();
                                  });
            if (!buffered && poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return 1;
            for (size_t i = 1; i < fds.size(); ++i)
                if (fds[i].revents || buffered) relay(ids[i]);
            if (fds[0].revents || harness_.has_buffered()) {
                auto m = harness_.receive(std::chrono::milliseconds(0));
                if (!m) {
                    if (harness_.why() == "timed out") continue;
                    return 0;  // the harness is gone: our namespaces (or machine) end with us
                }
                if (m->value("op", "") == agent::op::bye) {
                    harness_.send({{"id", m->value("id", 0)}, {"ok", true}});
                    return 0;
                }
                answer(*m);
            }
        }
    }

private:
    // A contender's messages, as events; its end as "closed".
    void relay(int id) {
        auto it = contenders_.find(id);
        if (it == contenders_.end()) return;
        Link& link = *it->second;
        do {
            auto m = link.receive(std::chrono::milliseconds(0));
            if (!m) {
                if (link.why() == "timed out") return;
                harness_.send({{"event", "closed"}, {"contender", id}, {"why", link.why()}});
                contenders_.erase(it);
                return;
            }
            harness_.send({{"event", "from"}, {"contender", id}, {"msg", *m}});
        } while (link.has_buffered());
    }

    void answer(const json& m) {
        const std::string op = m.value("op", "");
        if (op == agent::op::to) {
            if (auto it = contenders_.find(m.value("contender", -1)); it != contenders_.end()) it->second->send(m["msg"]);
            return;
        }
        json reply{{"ok", true}};
        try {
            run(op, m, reply);
        } catch (const std::exception& e) {
            reply["ok"] = false;
            reply["error"] = e.what();
        }
        reply["id"] = m.value("id", 0);  // last: no result can take the request's id
        harness_.send(reply);
    }

    void run(const std::string& op, const json& m, json& r) {
        if (op == agent::op::hello) {
            if (m.value("version", 0) != agent::kProtocolVersion)
                throw std::runtime_error(fmt::format("agent protocol version {} asked, this agent speaks {}", m.value("version", 0),
                                                     agent::kProtocolVersion));
            utsname u{};
            uname(&u);
            r.update({{"version", agent::kProtocolVersion}, {"host", u.nodename}, {"os", u.sysname}, {"kernel", u.release}, {"pid", getpid()}});
        } else if (op == agent::op::spawn) {
            const json& o = m.at("options");
            SpawnedContender c = host_.spawn({.free_running = o.value("free_running", false),
                                              .unshare_flags = o.value("unshare_flags", 0),
                                              .uid = o.value("uid", 0u),
                                              .want_pid = o.value("want_pid", 0),
                                              .want_parent_pid = o.value("want_parent_pid", 0)});
            const int id = next_id_++;
            contenders_[id] = std::move(c.link);
            r.update({{"contender", id}, {"pid", c.proc.pid}, {"start", c.proc.start}, {"parent_pid", c.parent.pid},
                      {"parent_start", c.parent.start}});
        } else if (op == agent::op::close) {
            contenders_.erase(m.value("contender", -1));
        } else if (op == agent::op::alive) {
            r["alive"] = host_.alive(process_of(m));
        } else if (op == agent::op::signal) {
            host_.signal(process_of(m), m.value("sig", 0));
        } else if (op == agent::op::children) {
            json out = json::array();
            for (const ChildProcess& c : host_.children(process_of(m)))
                out.push_back({{"pid", c.id.pid}, {"start", c.id.start}, {"own_pid", c.own_pid}});
            r["children"] = out;
        } else if (op == agent::op::record) {
            // Nothing to journal here: what contenders make lives in this
            // host's namespaces, which end with the agent.
        } else if (op == agent::op::reclaim) {
            host_.reclaim_segment(m.value("primitive", ""), m.value("key", -1LL), m.value("creator", -1));
        } else if (op == agent::op::plant_process) {
            const PlantedProcess p = host_.plant_process(m.value("want_pid", 0), m.value("uid", 0u), m.value("attach", -1));
            r.update({{"pid", p.id.pid}, {"start", p.id.start}, {"handle", p.handle}});
        } else if (op == agent::op::planted_signal) {
            r["sig"] = host_.planted_signal(planted(m));
        } else if (op == agent::op::remove_planted) {
            host_.remove_planted(planted(m));
        } else if (op == agent::op::plant_segment) {
            r["shmid"] = host_.plant_segment(m.value("key", -1LL));
        } else if (op == agent::op::segment_intact) {
            r["intact"] = host_.segment_intact(m.value("shmid", -1));
        } else if (op == agent::op::remove_planted_segment) {
            host_.remove_planted_segment(m.value("shmid", -1));
        } else if (op == agent::op::segment_on_key) {
            const auto found = host_.segment_on_key(m.value("key", -1LL));
            r.update({{"found", found.has_value()}, {"shmid", found ? found->first : -1}, {"creator", found ? found->second : -1}});
        } else if (op == agent::op::actor_spawn) {
            Actor a = Actor::spawn(registry_, nullptr);
            r.update({{"actor", next_id_}, {"pid", a.pid()}, {"start", process_start_time(a.pid())}});
            actors_.emplace(next_id_++, std::move(a));
        } else if (op == agent::op::actor_call) {
            const ActorReply reply = actor(m).call(request_from_json(m.at("request")),
                                                   std::chrono::milliseconds(m.value("timeout_ms", 3000)));
            r["reply"] = to_json(reply);
        } else if (op == agent::op::actor_kill) {
            Actor& a = actor(m);
            a.kill_now(m.value("sig", SIGKILL));
            r["end"] = a.end();
        } else if (op == agent::op::actor_end) {
            actors_.erase(m.value("actor", -1));
        } else if (op == agent::op::file) {
            r.update(do_file_request(m.at("request")));
        } else if (op == agent::op::exec) {
            r.update(run_program(m.at("argv").get<std::vector<std::string>>(), std::chrono::milliseconds(m.value("timeout_ms", 10000))));
        } else {
            throw std::runtime_error(fmt::format("unknown operation '{}'", op));
        }
    }

    PlantedProcess planted(const json& m) { return {process_of(m), m.value("handle", -1)}; }
    Actor& actor(const json& m) {
        auto it = actors_.find(m.value("actor", -1));
        if (it == actors_.end()) throw std::runtime_error(fmt::format("no actor {}", m.value("actor", -1)));
        return it->second;
    }

    Channel& harness_;
    const Registry& registry_;
    LocalHost host_;
    std::map<int, Actor> actors_;
    std::map<int, std::unique_ptr<Link>> contenders_;
    int next_id_ = 1;
};

}  // namespace

int agent_main(int fd, const Registry& registry) {
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN);  // the harness handles Ctrl-C and then closes the stream
    Channel harness(fd);
    try {
        Agent agent(harness, registry);
        return agent.serve();
    } catch (const std::exception& e) {
        harness.send({{"event", "failed"}, {"why", e.what()}});
        return 1;
    }
}

}  // namespace ilk
