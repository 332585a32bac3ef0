#include "engine/real_server.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "engine/scenario.h"
#include "engine/trial.h"
#include "json_number.h"
#include "journal.h"

namespace ilk {

namespace fs = std::filesystem;
using json = nlohmann::json;

void to_json(json& j, const ServerSpec& s) {
    j = {{"name", s.name},
         {"source", s.source},
         {"summary", s.summary},
         {"model", s.model},
         {"package", s.package},
         {"user", s.user},
         {"bin_dir", s.bin_dir},
         {"init", s.init},
         {"start", s.start},
         {"ready", s.ready},
         {"ready_line", s.ready_line},
         {"waiting_line", s.waiting_line},
         {"session", s.session},
         {"stop_signal", s.stop_signal},
         {"evidence", s.evidence},
         {"pidfile", s.pidfile},
         {"lock_file", s.lock_file},
         {"ready_ms", s.ready_ms},
         {"shared_port", s.shared_port},
         {"differences", s.differences},
         {"where", s.where},
         {"place", {{"socket_dir", s.place.socket_dir}, {"log", s.place.log}, {"session_pid_file", s.place.session_pid_file},
                    {"port", s.place.port}}}};
}

void from_json(const json& j, ServerSpec& s) {
    s.name = j.value("name", "");
    s.source = j.value("source", "");
    s.summary = j.value("summary", "");
    s.model = j.value("model", "");
    s.package = j.value("package", "");
    s.user = j.value("user", "");
    s.bin_dir = j.value("bin_dir", "");
    s.init = j.value("init", std::vector<std::string>{});
    s.start = j.value("start", std::vector<std::string>{});
    s.ready = j.value("ready", std::vector<std::string>{});
    s.ready_line = j.value("ready_line", "");
    s.waiting_line = j.value("waiting_line", "");
    s.session = j.value("session", std::vector<std::string>{});
    s.stop_signal = j.value("stop_signal", "SIGTERM");
    s.evidence = j.value("evidence", "");
    s.pidfile = j.value("pidfile", "");
    s.lock_file = j.value("lock_file", "");
    s.ready_ms = number_or(j, "ready_ms", 10000);
    s.shared_port = j.value("shared_port", false);
    s.differences = j.value("differences", std::vector<std::string>{});
    s.where = j.value("where", "");
    const json place = j.value("place", json::object());
    s.place = {place.value("socket_dir", ""), place.value("log", ""), place.value("session_pid_file", ""), number_or(place, "port", 0)};
}

std::vector<fs::path> server_dirs() { return toml_entries::search_dirs("ILK_SERVER_PATH", ILK_SERVER_SUBDIR, ILK_SOURCE_SERVER_DIR); }

namespace {

using toml_entries::fail;

constexpr std::pair<std::string_view, int> kStopSignals[] = {{"SIGTERM", SIGTERM}, {"SIGINT", SIGINT}, {"SIGQUIT", SIGQUIT}};
constexpr std::string_view kPlaceholders[] = {"{bin}", "{datadir}", "{port}", "{socket_dir}", "{session_pid_file}"};

ServerSpec parse_server(const std::string& file, const toml::table& t, int index) {
    const std::string label = fmt::format("[[server]] #{}", index);
    ServerSpec s;
    toml_entries::read_keys(file, t, label, kServerKeys, s);
    s.where = fmt::format("{}:{}", file, t.source().begin.line);
    if (const toml::node* n = t.get("differences"))
        for (const std::string& d : s.differences) {
            const std::string scenario = d.substr(0, d.find(':'));
            if (d.find(": ") == std::string::npos || d.size() < scenario.size() + 12)
                fail(file, n->source(), fmt::format("difference '{}' in {} is not \"SCENARIO: note\"; write the scenario, a colon and why the server "
                                                    "and its model disagree there",
                                                    d, label));
            if (!find_scenario(scenario))
                fail(file, n->source(), fmt::format("difference '{}' in {} names no scenario '{}'; ilk list scenarios names them", d, label, scenario));
        }
    for (const ServerKey& key : kServerKeys) {
        const auto* list = std::get_if<std::vector<std::string> ServerSpec::*>(&key.field);
        const toml::node* n = t.get(key.name);
        if (!list || !n || key.name == "differences") continue;
        if ((s.**list).empty())
            fail(file, n->source(), fmt::format("'{}' in {} is empty; write the program and its arguments, [\"program\", \"arg\", ...]", key.name, label));
        // A placeholder the kit does not know would reach the program as it stands.
        for (const std::string& arg : s.**list)
            for (size_t at = arg.find('{'); at != std::string::npos; at = arg.find('{', at + 1)) {
                const size_t end = arg.find('}', at);
                if (end == std::string::npos) break;
                const std::string_view word(arg.data() + at, end - at + 1);
                if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), word) == std::end(kPlaceholders) &&
                    word.find_first_of(" '\"") == std::string_view::npos)
                    fail(file, n->source(),
                         fmt::format("unknown placeholder '{}' in '{}' in {}; the kit replaces {{bin}}, {{datadir}}, {{port}}, {{socket_dir}} "
                                     "and {{session_pid_file}}",
                                     word, key.name, label));
            }
    }
    if (const toml::node* n = t.get("stop_signal");
        n && std::none_of(std::begin(kStopSignals), std::end(kStopSignals), [&](const auto& p) { return p.first == s.stop_signal; }))
        fail(file, n->source(), fmt::format("stop_signal '{}' in {} is not one the kit sends; write \"SIGTERM\", \"SIGINT\" or \"SIGQUIT\"", s.stop_signal, label));
    for (const auto& [key, value] : {std::pair{"evidence", &s.evidence}, std::pair{"ready_line", &s.ready_line}, std::pair{"waiting_line", &s.waiting_line}})
        if (const toml::node* n = t.get(key)) try {
                std::regex check(*value);
            } catch (const std::regex_error& e) {
                fail(file, n->source(), fmt::format("{} in {} is not a regular expression ({}); write an ECMAScript one, \"FATAL|PANIC\"", key, label, e.what()));
            }
    for (const char* k : {"pidfile", "lock_file"})
        if (const toml::node* n = t.get(k)) {
            const std::string& v = std::string_view(k) == "pidfile" ? s.pidfile : s.lock_file;
            if (v.empty() || v == "." || v == ".." || v.find('/') != std::string::npos)
                fail(file, n->source(), fmt::format("{} '{}' in {} is not a name inside the data directory; write a file name without '/' (\"postmaster.pid\")", k, v, label));
        }
    if (const toml::node* n = t.get("session");
        n && std::none_of(s.session.begin(), s.session.end(), [](const std::string& a) { return a.find("{session_pid_file}") != std::string::npos; }))
        fail(file, n->source(), fmt::format("'session' in {} never names {{session_pid_file}}; its backend must write its PID there, so the kit knows which process it is", label));
    if (s.user == "root" || s.user == "0")
        fail(file, t.get("user")->source(), fmt::format("user in {} is root; name the kit's own user (\"ilk-server\"): a server on trial never runs as root", label));
    return s;
}

}  // namespace

std::vector<ServerSpec> load_servers(const std::vector<fs::path>& dirs) {
    std::vector<ServerSpec> out;
    std::map<std::string, std::string> first_defined;
    toml_entries::for_each_entry(dirs, "server", "server files", [&](const std::string& file, const toml::table& t, int index) {
        ServerSpec s = parse_server(file, t, index);
        toml_entries::check_unique(first_defined, "server", s.name, s.where, file, *t.get("name"));
        out.push_back(std::move(s));
    });
    return out;
}

std::vector<StrategySpec> server_strategies(const ServerSpec& s) {
    std::vector<StrategySpec> out;
    for (bool shared : {false, true}) {
        if (shared && !s.shared_port_row) break;
        StrategySpec st;
        st.name = shared ? s.name + "+shared-port" : s.name;
        st.template_name = "server";
        st.summary = shared ? fmt::format("{}, every contender on one port and socket directory (the port as a second interlock)", s.summary.empty() ? s.name : s.summary)
                            : s.summary;
        st.source = s.source;
        st.lock_file = s.lock_file.empty() ? "postmaster.pid" : s.lock_file;
        st.where = s.where;
        st.server = s;
        st.server->shared_port = shared;
        out.push_back(std::move(st));
    }
    return out;
}

std::vector<StrategySpec> load_strategies_and_servers() {
    std::vector<StrategySpec> out = load_strategies(strategy_dirs());
    for (const ServerSpec& server : load_servers(server_dirs()))
        for (StrategySpec& s : server_strategies(server)) {
            for (const StrategySpec& known : out)
                if (known.name == s.name)
                    throw std::runtime_error(fmt::format("{}: server '{}' has the name of the strategy defined at {}; rename one", s.where, s.name, known.where));
            out.push_back(std::move(s));
        }
    return out;
}

std::string expand(const std::string& arg, const ServerSpec& s, const std::string& datadir) {
    std::string out = arg;
    const std::pair<std::string_view, std::string> values[] = {{"{bin}", s.bin_dir},
                                                                {"{datadir}", datadir},
                                                                {"{port}", std::to_string(s.place.port)},
                                                                {"{socket_dir}", s.place.socket_dir},
                                                                {"{session_pid_file}", s.place.session_pid_file}};
    for (const auto& [word, value] : values)
        for (size_t at = 0; (at = out.find(word, at)) != std::string::npos; at += value.size()) out.replace(at, word.size(), value);
    return out;
}

int stop_signal_number(const ServerSpec& s) {
    for (const auto& [name, number] : kStopSignals)
        if (name == s.stop_signal) return number;
    return SIGTERM;
}

std::pair<uid_t, gid_t> server_user(const ServerSpec& s) {
    const passwd* pw = getpwnam(s.user.c_str());
    if (!pw)
        throw UnsupportedHere(fmt::format("{} runs as user '{}', and there is no such user: run ci/setup.sh, or useradd --system --no-create-home "
                                          "--shell /usr/sbin/nologin {}",
                                          s.name, s.user, s.user));
    if (pw->pw_uid == 0) throw UnsupportedHere(fmt::format("{} runs as user '{}', which is root: name the kit's own user", s.name, s.user));
    if (geteuid() != 0)
        throw UnsupportedHere(fmt::format("{} runs as user '{}', and only root can start it so: run as root", s.name, s.user));
    return {pw->pw_uid, pw->pw_gid};
}

namespace {

// In a forked child: become uid:gid with no other groups, die with the parent.
void become(uid_t uid, gid_t gid, pid_t parent) {
    if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) _exit(126);
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // after the change of credentials, which clears it
    if (getppid() != parent) _exit(126);
}

pid_t fork_as(const std::vector<std::string>& argv, const std::vector<std::string>& env, uid_t uid, gid_t gid, const std::string& log) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) throw std::runtime_error(fmt::format("cannot open {}: {}", log, std::strerror(errno)));
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(out, 1);
        dup2(out, 2);
        close_range(3, ~0U, 0);
        become(uid, gid, parent);
        if (chdir("/") != 0) _exit(126);
        std::vector<char*> args, vars;
        for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        for (const std::string& v : env) vars.push_back(const_cast<char*>(v.c_str()));
        vars.push_back(nullptr);
        execve(args[0], args.data(), vars.data());
        dprintf(2, "cannot run %s: %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    const int err = errno;
    ::close(out);
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(err)));
    return pid;
}

std::string tail_lines(const std::string& text, size_t n) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    const size_t from = lines.size() > n ? lines.size() - n : 0;
    std::string out;
    for (size_t i = from; i < lines.size(); ++i) out += (out.empty() ? "" : " / ") + lines[i];
    return out;
}

}  // namespace

std::string read_server_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return {};
    struct stat st {};
    std::string out;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        char buf[8192];
        for (ssize_t n; out.size() < 256 * 1024 && (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

std::vector<std::string> server_environment(const ServerSpec& s, const std::string& tmp) {
    return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "TMPDIR=" + tmp, "HOME=" + tmp,
            "USER=" + s.user, "LOGNAME=" + s.user};
}

int run_as(const std::vector<std::string>& argv, const std::vector<std::string>& env, uid_t uid, gid_t gid, const std::string& log,
           std::chrono::milliseconds timeout) {
    const pid_t pid = fork_as(argv, env, uid, gid, log);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (int i = 0;; ++i) {
        int status = 0;
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR) return -1;
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(i < 20 ? 500 : 5000);
    }
}

pid_t start_as(const std::vector<std::string>& argv, const std::vector<std::string>& env, uid_t uid, gid_t gid, const std::string& log,
               const Journal* journal) {
    const pid_t pid = fork_as(argv, env, uid, gid, log);
    if (journal) journal->record("proc", fmt::format("{} {}", pid, process_start_time(pid)));
    return pid;
}

namespace {
// Bytes that are not UTF-8 (a corrupt pidfile quoted in a log line) as \\xNN.
std::string printable(const std::string& in) {
    std::string out;
    for (size_t i = 0; i < in.size();) {
        const auto c = static_cast<unsigned char>(in[i]);
        const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = n > 0 && i + n <= in.size() && (n == 1 ? (c >= 0x20 || c == '\t' || c == '\n') : true);
        for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(in[i + k]) >> 6) == 2;
        if (ok) {
            out.append(in, i, n);
            i += n;
        } else {
            out += fmt::format("\\x{:02x}", c);
            ++i;
        }
    }
    return out;
}
}  // namespace

namespace {
// A server's log as evidence: printable, and the trial's data directory left out of its paths.
std::string log_as_evidence(const std::string& raw, const std::string& datadir) {
    std::string text = printable(raw);
    if (datadir.empty()) return text;
    const std::string prefix = datadir + "/";
    for (size_t at = 0; (at = text.find(prefix, at)) != std::string::npos;) text.erase(at, prefix.size());
    return text;
}

// The part of each line of `text` that `pattern` matches, as evidence: its
// first group if it has one, else the whole line. A line is matched on its
// first kLogLineMatched bytes only: std::regex recurses once per character,
// and a line of 256 KiB that the server's user wrote crashed the kit
// (tests/fuzz/corpus/server_log/long-error-line.log).
std::vector<std::string> matching_lines(const std::string& pattern, const std::string& text) {
    // Compiled once per pattern and thread: observe_server polls the log every 5 ms.
    thread_local std::map<std::string, std::regex> compiled;
    auto it = compiled.find(pattern);
    if (it == compiled.end()) it = compiled.emplace(pattern, std::regex(pattern)).first;
    const std::regex& re = it->second;
    std::vector<std::string> out;
    std::smatch m;
    for (size_t at = 0; at < text.size();) {
        const size_t nl = std::min(text.find('\n', at), text.size());
        const std::string line = text.substr(at, std::min(nl - at, kLogLineMatched));
        at = nl + 1;
        if (std::regex_search(line, m, re)) out.push_back(m.size() > 1 && m[1].matched ? m[1].str() : line);
    }
    return out;
}
}  // namespace

bool says_ready(const ServerSpec& s, const std::string& log_text) {
    return s.ready_line.empty() || !matching_lines(s.ready_line, log_text).empty();
}

std::optional<std::string> says_waiting(const ServerSpec& s, const std::string& log_text, const std::string& datadir) {
    if (s.waiting_line.empty()) return std::nullopt;
    const std::vector<std::string> lines = matching_lines(s.waiting_line, log_as_evidence(log_text, datadir));
    if (lines.empty()) return std::nullopt;
    return lines.front();
}

std::string evidence_of(const ServerSpec& s, const std::string& raw, const std::string& datadir) {
    const std::string log_text = log_as_evidence(raw, datadir);
    std::string out;
    if (!s.evidence.empty())
        for (const std::string& line : matching_lines(s.evidence, log_text)) out += (out.empty() ? "" : " / ") + line;
    if (out.empty()) out = tail_lines(log_text, 1);
    if (out.size() > kEvidenceMax) out = out.substr(0, kEvidenceMax) + " [...]";
    return out.empty() ? "exited without a word" : out;
}

void copy_data_directory(const fs::path& from, const fs::path& to, uid_t uid, gid_t gid) {
    auto own = [&](const fs::path& p, mode_t mode) {
        if (lchown(p.c_str(), uid, gid) != 0 || chmod(p.c_str(), mode) != 0)
            throw std::runtime_error(fmt::format("cannot give {} to uid {}: {}", p.string(), uid, std::strerror(errno)));
    };
    struct stat top {};
    if (lstat(from.c_str(), &top) != 0) throw std::runtime_error(fmt::format("cannot read {}: {}", from.string(), std::strerror(errno)));
    own(to, top.st_mode & 07777);
    for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator(); ++it) {
        const fs::path dest = to / fs::relative(it->path(), from);
        struct stat st {};
        if (lstat(it->path().c_str(), &st) != 0) throw std::runtime_error(fmt::format("cannot read {}: {}", it->path().string(), std::strerror(errno)));
        if (S_ISDIR(st.st_mode)) {
            if (mkdir(dest.c_str(), 0700) != 0) throw std::runtime_error(fmt::format("cannot make {}: {}", dest.string(), std::strerror(errno)));
            own(dest, st.st_mode & 07777);
        } else if (S_ISREG(st.st_mode)) {
            fs::copy_file(it->path(), dest);
            own(dest, st.st_mode & 07777);
        } else if (S_ISLNK(st.st_mode)) {
            fs::copy_symlink(it->path(), dest);
            if (lchown(dest.c_str(), uid, gid) != 0) throw std::runtime_error(fmt::format("cannot give {} to uid {}", dest.string(), uid));
        }  // sockets, fifos: a data directory made by init has none worth copying
    }
}

fs::path server_template(const ServerSpec& s, const Journal& journal) {
    static std::mutex mu;
    static std::map<std::string, fs::path> made;  // per process: a run's worker makes its own once
    const std::lock_guard<std::mutex> hold(mu);
    if (auto it = made.find(s.name); it != made.end()) return it->second;
    const auto [uid, gid] = server_user(s);
    if (!s.init.empty() && access(expand(s.init.front(), s, "").c_str(), X_OK) != 0)
        throw UnsupportedHere(fmt::format("{} is not installed here ({} is missing): {}", s.name, expand(s.init.front(), s, ""),
                                          s.package.empty() ? "install it" : "apt-get install " + s.package));
    const fs::path home = journal.scratch() / fmt::format("server-{}-{}", s.name, getpid());
    fs::create_directory(home);
    if (chown(home.c_str(), uid, gid) != 0) throw std::runtime_error(fmt::format("cannot give {} to {}: {}", home.string(), s.user, std::strerror(errno)));
    const fs::path data = home / "data", log = home / "init.log";
    ServerSpec at = s;
    std::vector<std::string> argv;
    for (const std::string& a : s.init) argv.push_back(expand(a, at, data.string()));
    const int rc = run_as(argv, server_environment(s, home.string()), uid, gid, log.string(), std::chrono::seconds(120));
    if (rc != 0)
        throw UnsupportedHere(fmt::format("{}'s data directory could not be made: {} {} ({}); its log: {}", s.name, argv.front(),
                                          rc < 0 ? "took over 120 s" : fmt::format("exited {}", rc), log.string(), evidence_of(s, read_server_file(log.string()))));
    // Trials copy it as root: from now on nothing of the server's user may
    // change it (a link planted in it would be followed by the copy).
    for (auto it = fs::recursive_directory_iterator(home); it != fs::recursive_directory_iterator(); ++it)
        if (lchown(it->path().c_str(), 0, 0) != 0) throw std::runtime_error(fmt::format("cannot take back {}: {}", it->path().string(), std::strerror(errno)));
    if (chown(home.c_str(), 0, 0) != 0) throw std::runtime_error(fmt::format("cannot take back {}: {}", home.string(), std::strerror(errno)));
    made[s.name] = data;
    return data;
}

}  // namespace ilk
