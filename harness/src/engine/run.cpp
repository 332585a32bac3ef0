#include "engine/run.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "host/agent_host.h"
#include "host/files.h"
#include "host/local_host.h"
#include "host/nfs.h"
#include "hostinfo.h"
#include "interrupt.h"
#include "journal.h"
#include "probe.h"
#include "probe_hosts.h"
#include "probe_target.h"
#include "registry.h"
#include "report.h"

namespace ilk {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Why a strategy cannot run under a scenario here, or empty.
std::string unsupported_reason(const StrategySpec& s, const Scenario& sc, const std::map<std::string, PrimitiveStatus>& prims) {
    if (sc.needs_root && geteuid() != 0)
        return fmt::format("scenario {} needs root (PID reuse, other uids or namespaces); run as root", sc.name);
    for (const std::string& p : {s.lock, s.segment}) {
        if (p.empty()) continue;
        auto it = prims.find(p);
        if (it == prims.end()) return fmt::format("primitive '{}' is not loaded (no plugin provides it)", p);
        if (!it->second.supported) return fmt::format("primitive '{}' is not supported here: {}", p, it->second.reason);
    }
    return {};
}

// A scenario that could not be staged here does not matter for a strategy
// whose own primitives work and whose template reads nothing the scenario
// changes (Scenario::changes); the reason says so.
void mark_whether_it_matters(ScenarioResult& r, const StrategySpec& s, const Scenario& sc,
                             const std::map<std::string, PrimitiveStatus>& prims) {
    const StrategyTemplate* t = find_template(s.template_name);
    if (!t || sc.changes == 0 || (sc.changes & t->reads) != 0) return;
    for (const std::string& p : {s.lock, s.segment})
        if (!p.empty() && (!prims.count(p) || !prims.at(p).supported)) return;
    r.matters = false;
    std::vector<std::string> what;
    if (sc.changes & kReadsPids) what.emplace_back("a PID");
    if (sc.changes & kReadsSegments) what.emplace_back("a segment");
    r.reason += fmt::format("; it does not matter for {}: its template {} never reads {}, all that {} changes", s.name, t->name,
                            fmt::join(what, " or "), sc.name);
}

bool wanted(const std::vector<std::string>& only, const std::string& name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
}

// A real server runs only when named (it takes minutes where a model takes seconds).
bool wanted(const std::vector<std::string>& only, const StrategySpec& s) {
    return s.server ? std::find(only.begin(), only.end(), s.name) != only.end() : wanted(only, s.name);
}

std::string file_safe(const std::string& name) {
    std::string out = name;
    std::replace_if(out.begin(), out.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.'; }, '_');
    while (!out.empty() && (out.front() == '_' || out.front() == '.')) out.erase(out.begin());
    return out.empty() ? "target" : out;
}

ScenarioResult scenario_result(const CellResult& c, const fs::path& link_base) {
    ScenarioResult s;
    s.scenario = c.scenario;
    s.verdict = c.verdict;
    s.schedules = c.schedules;
    s.faults = c.faults;
    s.complete = c.complete;
    s.coverage = c.coverage;
    s.reason = c.reason;
    s.elapsed_ms = c.elapsed_ms;
    s.found_ms = c.found_ms;
    if (c.counterexample) {
        s.variant = c.counterexample->variant;
        s.schedule = c.counterexample->schedule;
        s.transcript = c.counterexample->transcript;
        s.exposure_ms = c.counterexample->violation.exposure_ms;
        s.holder_saw = c.counterexample->violation.holder_saw;
        s.never_told = c.counterexample->violation.never_told;
    }
    for (const CellResult::VariantResult& v : c.variants)
        s.variants.push_back({v.variant, v.verdict, v.schedules, v.never_told, v.exposure_ms, v.outcomes});
    auto linked = [&](const std::string& file) {
        if (file.empty()) return file;
        std::error_code ec;
        const fs::path rel = link_base.empty() ? fs::path() : fs::relative(file, link_base, ec);
        return (!ec && !rel.empty() && *rel.begin() != "..") ? rel.string() : file;
    };
    s.counterexample = linked(c.counterexample_file);
    for (const CellResult::Finding& f : c.findings)
        s.findings.push_back({f.counterexample.violation.kind, f.counterexample.verdict, f.counterexample.variant,
                              f.counterexample.schedule, f.counterexample.violation.explanation, linked(f.file),
                              f.counterexample.violation.exposure_ms, f.counterexample.violation.holder_saw,
                              f.counterexample.violation.never_told});
    return s;
}

}  // namespace

std::string schedule_text(const ScheduleOptions& o) {
    if (o.mode == ScheduleOptions::Mode::stress)
        return fmt::format("stress (free-running starters, {} trials per variant)", o.trials);
    const std::string budget = o.budget_ms > 0 ? fmt::format(", at most {:g} s per scenario", o.budget_ms / 1000) : "";
    if (o.mode == ScheduleOptions::Mode::random)
        return fmt::format("random (seed {}, {} trials per variant, up to {} fault{})", o.seed, o.trials, o.max_faults, budget);
    if (o.mode == ScheduleOptions::Mode::pct)
        return fmt::format("PCT (depth {}, seed {}, {} runs per variant, up to {} fault{})", o.depth, o.seed, o.trials, o.max_faults, budget);
    return fmt::format("exhaustive (preemption bound {}, up to {} fault, at most {} schedules per variant{}{})", o.preemption_bound,
                       o.max_faults, o.max_schedules,
                       o.pct_runs > 0 ? fmt::format(", then {} PCT runs of depth {} where that cap is hit", o.pct_runs, o.depth) : "",
                       budget);
}

std::string platform_label(const json& host) {
    std::string os = host.value("os", "?");
    std::transform(os.begin(), os.end(), os.begin(), [](unsigned char c) { return std::tolower(c); });
    return fmt::format("{} {}", os, host.value("kernel", "?"));
}

std::vector<NotRunPlatform> platforms_not_run(const std::vector<fs::path>& dirs, std::string_view sysname) {
    std::vector<NotRunPlatform> out;
    std::vector<std::string> seen;
    for (const fs::path& dir : dirs) {
        std::vector<fs::path> files;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (e.path().extension() == ".toml") files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& f : files) {
            const std::string name = f.stem().string();
            if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;  // an earlier directory overrides it
            seen.push_back(name);
            const PlatformProfile p = load_profile(f);
            if (p.os == sysname) continue;
            out.push_back({p.name, p.os, p.summary, f.string(), static_cast<int>(p.expectations.size()), p.targets});
        }
    }
    return out;
}

fs::path write_counterexample(const Counterexample& cx, const fs::path& dir, const std::string& suffix) {
    fs::create_directories(dir);
    const fs::path file =
        dir / fmt::format("{}--{}{}{}.json", cx.strategy.name, cx.scenario, cx.variant.empty() ? "" : "--" + cx.variant, suffix);
    std::ofstream(file) << cx.to_json().dump(2, ' ', false, json::error_handler_t::replace) << "\n";  // a server's log may hold any bytes
    return file;
}

// The worst finding under its usual name; each other kind of violation
// found gets its kind in the name (…--2--liveness.json).
void write_counterexamples(CellResult& c, const fs::path& dir) {
    // Only a finding has a counterexample to replay (an ERROR is the kit's failure, not a schedule's).
    if (c.counterexample && has_counterexample(c.counterexample->verdict))
        c.counterexample_file = write_counterexample(*c.counterexample, dir).string();
    for (CellResult::Finding& f : c.findings) {
        const bool worst = c.counterexample && same_finding(f.counterexample, *c.counterexample);
        f.file = worst ? c.counterexample_file : write_counterexample(f.counterexample, dir, "--" + f.counterexample.violation.kind).string();
    }
}

// Every strategy of `mine` x every wanted scenario in `env`, cell by cell into
// `result`; an interrupt keeps the cells done (and the one cut short).
void run_cells(const TrialEnv& env, const std::vector<const StrategySpec*>& mine, const std::map<std::string, PrimitiveStatus>& prims,
               const fs::path& cx_dir, const RunOptions& o, const std::function<void(const std::string&)>& on_start,
               const std::function<void(const StrategyCell&)>& on_cell, TargetResult& result) {
    try {
        // A network scenario whose trials can share the lab's events runs every
        // strategy's trial of a variant around one restart, link cut or crash
        // first (run_batch); explore takes those outcomes as the schedules it runs.
        std::map<std::string, std::map<std::string, VariantOutcomes>> batched;  // scenario -> strategy -> outcomes
        if (env.lab && o.schedule.mode == ScheduleOptions::Mode::exhaustive) {
            for (const Scenario& sc : scenarios()) {
                if (!scenario_wanted(o.scenarios, sc, true, o.skip_scenarios) || !batchable(sc)) continue;
                std::vector<const StrategySpec*> runnable;
                for (const StrategySpec* sp : mine)
                    if (unsupported_reason(*sp, sc, prims).empty()) runnable.push_back(sp);
                if (runnable.size() < 2) continue;
                std::vector<VariantOutcomes> outcomes = run_batch(env, runnable, sc, on_start);
                for (size_t i = 0; i < runnable.size(); ++i) batched[sc.name][runnable[i]->name] = std::move(outcomes[i]);
            }
        }
        for (const StrategySpec* sp : mine) {
            const StrategySpec& s = *sp;
            StrategyCell cell;
            cell.strategy = s.name;
            if (on_start) on_start(s.name);
            for (const Scenario& sc : scenarios()) {
                if (!scenario_wanted(o.scenarios, sc, env.lab != nullptr, o.skip_scenarios)) continue;
                throw_if_interrupted();
                CellResult c;
                c.strategy = s.name;
                c.scenario = sc.name;
                if (sc.network && !env.lab) {
                    c.verdict = Verdict::UNSUPPORTED;
                    c.reason = fmt::format("{} acts on an NFS server and its clients: run it on a network mount "
                                           "(ilk run --guest IMAGE --nfs NAME --scenario {})", sc.name, sc.name);
                } else if (std::string why = unsupported_reason(s, sc, prims); !why.empty()) {
                    c.verdict = Verdict::UNSUPPORTED;
                    c.reason = why;
                } else {
                    const VariantOutcomes* ready = nullptr;
                    if (auto by = batched.find(sc.name); by != batched.end())
                        if (auto it = by->second.find(s.name); it != by->second.end()) ready = &it->second;
                    c = explore(env, s, sc, o.schedule, ready);
                    if (!cx_dir.empty()) write_counterexamples(c, cx_dir);
                }
                cell.scenarios.push_back(scenario_result(c, o.link_base));
                if (c.verdict == Verdict::UNSUPPORTED) mark_whether_it_matters(cell.scenarios.back(), s, sc, prims);
                if (g_interrupted) break;  // the cell cut short is kept, marked by the report's `interrupted`
            }
            fold_cell(cell);
            if (on_cell) on_cell(cell);
            result.cells.push_back(std::move(cell));
            throw_if_interrupted();
        }
    } catch (const Interrupted&) {
    }
}

TargetResult run_target(const Registry& registry, const Journal& journal, const std::vector<StrategySpec>& strategies,
                        const PreparedTarget& target, const RunOptions& o, const std::function<void(const std::string&)>& on_start,
                        const std::function<void(const StrategyCell&)>& on_cell, Shard shard) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<const StrategySpec*> mine;  // this shard's strategies
    for (const StrategySpec& s : strategies)
        if (wanted(o.strategies, s)) mine.push_back(&s);
    for (size_t i = mine.size(); i-- > 0;)
        if (static_cast<int>(i) % shard.count != shard.index) mine.erase(mine.begin() + static_cast<long>(i));
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    TargetResult result;
    result.name = target.name;
    result.kind = target.kind;
    const json host = host_info();
    result.host = host.value("hostname", "");
    result.platform = platform_label(host);
    result.info = target.info;
    result.unsupported = target.unsupported;
    result.segments_only = target.segments_only;
    if (!target.unsupported.empty()) return result;

    // The probe first: its primitive checks also decide which cells can run.
    std::map<std::string, PrimitiveStatus> prims;
    const bool probe = o.probe && shard.index == 0;
    if (probe) {
        const fs::path probe_dir = target.dir / "probe";
        fs::create_directories(probe_dir);
        ProbeReport probe = probe_target(registry, journal, target, probe_dir, {}, o.profile);
        for (const PrimitiveStatus& p : probe.primitives) prims[p.name] = p;
        result.probe = probe;
        if (probe.interrupted) {
            result.elapsed_ms = target.setup_ms + ms_since(t0);
            return result;
        }
    }

    if (target.segments_only) {
        for (const StrategySpec* s : mine) {
            StrategyCell cell;
            cell.strategy = s->name;
            fold_cell(cell);
            cell.reason = fmt::format("{} holds segments only, not a data directory: its segment facts are in the probe", target.name);
            result.cells.push_back(std::move(cell));
        }
        result.elapsed_ms = target.setup_ms + ms_since(t0);
        return result;
    }

    // Gated schedules run one process at a time: on one CPU every hand-over is
    // a local wake-up instead of an inter-processor one (slow in VMs). Stress
    // wants every CPU.
    cpu_set_t saved;
    sched_getaffinity(0, sizeof saved, &saved);
    if (o.schedule.mode != ScheduleOptions::Mode::stress) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
        sched_setaffinity(0, sizeof one, &one);
    }
    if (!probe) {  // no probe (here) to say which primitives work: check them alone
        const fs::path check_dir = shard.index == 0 ? target.dir : target.dir / fmt::format("check-{}", shard.index);
        fs::create_directories(check_dir);
        const Lab lab(registry, journal, check_dir);
        for (const Primitive& p : registry.primitives()) {
            PrimitiveStatus s = check_primitive(lab, p);
            prims[s.name] = s;
        }
    }
    TrialEnv env;
    env.registry = &registry;
    env.journal = &journal;
    const std::string trials = shard.index == 0 ? "trials" : fmt::format("trials-{}", shard.index);
    env.workdir = target.dir / trials;
    fs::create_directories(env.workdir);
    for (const auto& [host, dir] : target.views) env.views[host] = dir / trials;
    const fs::path cx_dir = o.counterexample_dir.empty() || !o.counterexamples_per_target
                                ? o.counterexample_dir : o.counterexample_dir / file_safe(target.name);
    {
        // "/proc/self/exe": the zygote runs the very binary this process runs, even when
        // its file was replaced since (a rebuild or an upgrade in the middle of a run).
        LocalHost local(registry, &journal, o.contender_binary.empty() ? fs::path("/proc/self/exe") : o.contender_binary);
        env.host = &local;
        run_cells(env, mine, prims, cx_dir, o, on_start, on_cell, result);
    }
    sched_setaffinity(0, sizeof saved, &saved);
    result.elapsed_ms = target.setup_ms + ms_since(t0);
    return result;
}

namespace {

// A worker process (a target, or one shard of it) and what it has said so far.
struct Worker {
    size_t unit = 0;
    pid_t pid = -1;
    int fd = -1;
    std::string buffer;
    std::optional<TargetResult> result;
    std::string current;  // the strategy it is on
};

// What one worker runs.
struct Unit {
    size_t target = 0;
    Shard shard;
};

bool write_all(int fd, const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
        const ssize_t n = write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

std::vector<int> allowed_cpus() {
    cpu_set_t set;
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int i = 0; i < CPU_SETSIZE; ++i)
            if (CPU_ISSET(i, &set)) cpus.push_back(i);
    if (cpus.empty()) cpus.push_back(0);
    return cpus;
}

[[noreturn]] void worker_main(int fd, int cpu, pid_t parent, const Registry& registry, const Journal& journal,
                              const std::vector<StrategySpec>& strategies, const PreparedTarget& target, const RunOptions& o, Shard shard) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(3);
    // SysV keys derive from data-directory inodes, which repeat across
    // filesystems: concurrent targets must not see each other's segments.
    if (geteuid() == 0) unshare(CLONE_NEWIPC);
    // A gated schedule runs one process at a time: its worker keeps to one CPU.
    // Free-running contenders race, and a race needs every CPU.
    if (o.schedule.mode != ScheduleOptions::Mode::stress) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        sched_setaffinity(0, sizeof one, &one);
    }
    int rc = 0;
    try {
        const auto started = [&](const std::string& strategy) { write_all(fd, json{{"start", strategy}}.dump() + "\n"); };
        const TargetResult r = run_target(registry, journal, strategies, target, o, started, [&](const StrategyCell& c) {
            write_all(fd, json{{"cell", {{"strategy", c.strategy}, {"verdict", to_string(c.verdict)}, {"deciding", c.deciding_scenario}}}}.dump() + "\n");
        }, shard);
        rc = write_all(fd, json{{"result", to_json(r)}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n") ? 0 : 4;
    } catch (const std::exception& e) {
        write_all(fd, json{{"error", e.what()}}.dump() + "\n");
        rc = 5;
    }
    _exit(rc);
}

// What the terminal shows while the matrix runs.
class ProgressView {
public:
    ProgressView(RunOptions::Progress mode, size_t total) : mode_(mode), total_(total), t0_(std::chrono::steady_clock::now()) {}

    void cell(const std::string& target, const json& c, const std::vector<Worker>& running) {
        ++done_;
        if (mode_ == RunOptions::Progress::lines) {
            std::cerr << fmt::format("[{:>3}/{}] {:<13} {:<24} {:<11} {}\n", done_, total_, target, c.value("strategy", ""),
                                     c.value("verdict", ""), c.value("deciding", ""));
        } else if (mode_ == RunOptions::Progress::bar) {
            draw(running);
        }
    }
    void note(const std::string& line) {
        if (mode_ == RunOptions::Progress::none) return;
        if (mode_ == RunOptions::Progress::bar) std::cerr << "\r\033[K";
        std::cerr << line << "\n";
    }
    void draw(const std::vector<Worker>& running) {
        if (mode_ != RunOptions::Progress::bar) return;
        const double elapsed = ms_since(t0_) / 1000;
        const int width = 24;
        const int filled = total_ ? static_cast<int>(width * done_ / total_) : width;
        std::string eta = "--";
        if (done_ > 0 && done_ < total_) {
            const int s = static_cast<int>(elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_));
            eta = fmt::format("{}:{:02}", s / 60, s % 60);
        }
        std::string now;
        for (const Worker& w : running)
            if (!w.current.empty()) now += (now.empty() ? "" : ", ") + w.current;
        if (now.size() > 46) now = now.substr(0, 45) + "~";
        std::cerr << fmt::format("\r\033[K[{}{}] {:>3}/{} ETA {} {}", std::string(filled, '#'), std::string(width - filled, '.'), done_,
                                 total_, eta, now)
                  << std::flush;
    }
    void finish() {
        if (mode_ == RunOptions::Progress::bar) std::cerr << "\r\033[K" << std::flush;
    }

private:
    RunOptions::Progress mode_;
    size_t total_, done_ = 0;
    std::chrono::steady_clock::time_point t0_;
};

}  // namespace

MatrixReport run_matrix(const Registry& registry, Journal& journal, const std::vector<StrategySpec>& strategies,
                        const std::vector<PreparedTarget>& targets, const RunOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    MatrixReport report;
    report.host = host_info();
    report.profile = o.profile.name;
    report.schedule = schedule_text(o.schedule);
    for (const StrategySpec& s : strategies)
        if (wanted(o.strategies, s))
            report.strategies.push_back({s.name, s.summary, s.source, s.server ? s.server->model : "", s.server ? s.server->differences : std::vector<std::string>{}});
    for (const Scenario& s : scenarios())
        if (scenario_wanted(o.scenarios, s, false, o.skip_scenarios)) report.scenarios.push_back({s.name, s.summary});

    // Plugins set up host-wide things once here (a hugetlbfs mount, huge
    // pages), so concurrent workers find them ready instead of racing to make them.
    {
        Lab lab(registry, journal, journal.scratch());
        for (const Primitive& p : registry.primitives()) check_primitive(lab, p);
    }

    size_t total = 0, runnable = 0;
    for (const PreparedTarget& t : targets)
        if (t.unsupported.empty() && !t.segments_only) {
            total += report.strategies.size();
            ++runnable;
        }
    ProgressView view(o.progress, total);
    const std::vector<int> cpus = allowed_cpus();
    const size_t jobs = static_cast<size_t>(std::max(1, o.jobs));
    // Fewer targets than CPUs: each target's strategies are shared out among shards.
    const size_t shards = runnable == 0 ? 1 : std::clamp((jobs + runnable - 1) / runnable, size_t{1}, std::max<size_t>(1, report.strategies.size()));
    std::vector<Unit> units;
    for (size_t i = 0; i < targets.size(); ++i) {
        const int count = targets[i].unsupported.empty() && !targets[i].segments_only ? static_cast<int>(shards) : 1;
        for (int k = 0; k < count; ++k) units.push_back({i, {k, count}});
    }
    std::vector<Worker> running;
    std::vector<std::optional<TargetResult>> results(units.size());
    auto target_done = [&](size_t target) {
        return std::all_of(units.begin(), units.end(), [&](const Unit& u) { return u.target != target || results[static_cast<size_t>(&u - units.data())]; });
    };
    size_t next = 0;
    const pid_t self = getpid();
    std::vector<bool> cpu_busy(cpus.size(), false);
    std::map<pid_t, size_t> cpu_of;
    bool stopping = false;
    while (next < units.size() || !running.empty()) {
        if (g_interrupted && !stopping) {
            stopping = true;  // a SIGINT to the group reached the workers too; a SIGTERM to us alone did not
            for (const Worker& w : running) kill(w.pid, SIGINT);
        }
        while (!stopping && next < units.size() && running.size() < jobs) {
            const size_t u = next++;
            const PreparedTarget& target = targets[units[u].target];
            int pipefd[2];
            if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
            const size_t slot = static_cast<size_t>(std::find(cpu_busy.begin(), cpu_busy.end(), false) - cpu_busy.begin()) % cpus.size();
            std::cout << std::flush;
            std::cerr << std::flush;
            const pid_t pid = fork();
            if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
            if (pid == 0) {
                close(pipefd[0]);
                worker_main(pipefd[1], cpus[slot], self, registry, journal, strategies, target, o, units[u].shard);
            }
            close(pipefd[1]);
            journal.record("proc", fmt::format("{} {}", pid, process_start_time(pid)));
            cpu_busy[slot] = true;
            cpu_of[pid] = slot;
            running.push_back({u, pid, pipefd[0], {}, {}, {}});
            if (target.unsupported.empty()) view.draw(running);
        }
        if (running.empty()) break;
        std::vector<pollfd> fds;
        for (const Worker& w : running) fds.push_back({w.fd, POLLIN, 0});
        if (poll(fds.data(), fds.size(), 500) < 0 && errno != EINTR) throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
        for (size_t k = 0; k < running.size(); ++k) {
            if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Worker& w = running[k];
            const Unit& unit = units[w.unit];
            const PreparedTarget& target = targets[unit.target];
            char buf[65536];
            const ssize_t n = read(w.fd, buf, sizeof buf);
            if (n > 0) {
                w.buffer.append(buf, static_cast<size_t>(n));
                size_t nl;
                while ((nl = w.buffer.find('\n')) != std::string::npos) {
                    const json msg = json::parse(w.buffer.substr(0, nl), nullptr, false);
                    w.buffer.erase(0, nl + 1);
                    if (msg.contains("start")) {
                        w.current = fmt::format("{}: {}", target.name, msg["start"].get<std::string>());
                    } else if (msg.contains("cell")) {
                        w.current.clear();
                        view.cell(target.name, msg["cell"], running);
                    } else if (msg.contains("result")) {
                        w.result = target_from_json(msg["result"]);
                    } else if (msg.contains("error")) {
                        view.note(fmt::format("target {}: the kit failed: {}", target.name, msg["error"].get<std::string>()));
                    }
                }
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            // End of the worker's output: it is done, or it died.
            close(w.fd);
            int status = 0;
            while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
            }
            cpu_busy[cpu_of[w.pid]] = false;
            if (!w.result) {
                TargetResult dead;
                dead.name = target.name;
                dead.kind = target.kind;
                dead.platform = platform_label(report.host);
                dead.info = target.info;
                const std::string why = WIFSIGNALED(status) ? fmt::format("killed by signal {}", WTERMSIG(status))
                                                            : fmt::format("exit code {}", WEXITSTATUS(status));
                for (size_t i = 0; i < report.strategies.size(); ++i) {
                    if (static_cast<int>(i) % unit.shard.count != unit.shard.index) continue;  // another shard's
                    StrategyCell c;
                    c.strategy = report.strategies[i].name;
                    c.verdict = Verdict::ERROR;
                    c.reason = fmt::format("the worker for target {} ended without a result ({}): the kit failed", dead.name, why);
                    dead.cells.push_back(std::move(c));
                }
                if (!g_interrupted) w.result = std::move(dead);
            }
            if (w.result) {
                results[w.unit] = std::move(w.result);
                if (target_done(unit.target)) {
                    double elapsed = 0;
                    for (size_t i = 0; i < units.size(); ++i)
                        if (units[i].target == unit.target) elapsed = std::max(elapsed, results[i]->elapsed_ms);
                    view.note(fmt::format("target {:<13} done in {:.1f} s", target.name, elapsed / 1000));
                }
            }
            running.erase(running.begin() + static_cast<long>(k));
            break;  // fds no longer matches running
        }
        for (Worker& w : running)  // probing, before its first strategy
            if (w.current.empty()) w.current = targets[units[w.unit].target].name + (units[w.unit].shard.index == 0 ? ": probe" : ": checks");
        view.draw(running);
    }
    view.finish();
    bool missing = false;
    for (size_t t = 0; t < targets.size(); ++t) {
        std::vector<TargetResult> parts;
        for (size_t i = 0; i < units.size(); ++i) {
            if (units[i].target != t) continue;
            if (results[i]) parts.push_back(std::move(*results[i]));
            else missing = true;
        }
        if (!parts.empty()) report.targets.push_back(merge_shards(std::move(parts), strategies));
    }
    report.interrupted = g_interrupted.load() || missing;
    report.elapsed_ms = ms_since(t0);
    return report;
}

NetworkEnv::NetworkEnv(const Registry& registry, NfsLab& lab, const std::string& mount)
    : control(lab.control(mount)), trials(lab.client(0), fs::path(lab.mount(mount).dir) / "trials") {
    env.registry = &registry;
    env.workdir = trials.path();
    env.host = &lab.client(0);
    env.placement = {{"B", &lab.client(1)}, {"C", &lab.client(1)}, {"D", &lab.client(1)}};
    env.lab = control.get();
    // Each step is a round trip to a guest under TCG, and a lock request one to the server.
    env.step_timeout = std::chrono::milliseconds(20000);
    trials.fresh();
}

NetworkEnv::~NetworkEnv() {
    try {
        trials.remove();
    } catch (const std::exception& e) {
        std::cerr << fmt::format("ilk: {}: the trials' directory stays in the lab: {}\n", control->mount(), e.what());
    }
}

TargetResult run_network_mount(const Registry& registry, const std::vector<StrategySpec>& strategies, NfsLab& lab,
                               const std::string& mount, const RunOptions& o, const std::function<void(const std::string&)>& on_start,
                               const std::function<void(const StrategyCell&)>& on_cell) {
    const auto t0 = std::chrono::steady_clock::now();
    AgentHost& a_host = lab.client(0);
    TargetResult result;
    result.name = mount;
    result.kind = "network";
    result.host = a_host.name();
    result.platform = platform_label({{"os", a_host.hello().value("os", "linux")}, {"kernel", a_host.hello().value("kernel", "?")}});
    result.info = lab.describe(mount);
    const NfsMount& m = lab.mount(mount);
    result.info["path"] = m.dir;
    result.info["fstype"] = m.fstype;
    result.info["mount_options"] = m.applied;
    result.unsupported = m.error;
    std::vector<const StrategySpec*> mine;
    for (const StrategySpec& s : strategies)
        if (wanted(o.strategies, s)) mine.push_back(&s);
    if (result.unsupported.empty()) {
        std::map<std::string, PrimitiveStatus> prims;
        std::vector<std::string> only;
        for (const Primitive& p : registry.primitives()) only.push_back(p.desc->name);
        ProbeReport probe = probe_network_mount(lab, mount, only);
        if (probe.target.contains("unsupported")) result.unsupported = probe.target.value("unsupported", "");
        for (const PrimitiveStatus& p : probe.primitives) prims[p.name] = p;
        if (!o.profile.name.empty()) probe.comparisons = compare(o.profile, probe.facts, mount);
        result.probe = std::move(probe);
        if (result.unsupported.empty() && !g_interrupted) {
            NetworkEnv net(registry, lab, mount);
            const fs::path cx_dir = o.counterexample_dir.empty() ? o.counterexample_dir : o.counterexample_dir / file_safe(mount);
            run_cells(net.env, mine, prims, cx_dir, o, on_start, on_cell, result);
        }
    }
    result.elapsed_ms = ms_since(t0);
    return result;
}

TargetResult merge_shards(std::vector<TargetResult> shards, const std::vector<StrategySpec>& strategies) {
    TargetResult out = std::move(shards.at(0));
    for (size_t i = 1; i < shards.size(); ++i) {
        out.elapsed_ms = std::max(out.elapsed_ms, shards[i].elapsed_ms);
        if (!out.probe) out.probe = std::move(shards[i].probe);
        for (StrategyCell& c : shards[i].cells) out.cells.push_back(std::move(c));
    }
    auto position = [&](const StrategyCell& c) {
        return std::find_if(strategies.begin(), strategies.end(), [&](const StrategySpec& s) { return s.name == c.strategy; }) - strategies.begin();
    };
    std::stable_sort(out.cells.begin(), out.cells.end(), [&](const StrategyCell& a, const StrategyCell& b) { return position(a) < position(b); });
    return out;
}

}  // namespace ilk
