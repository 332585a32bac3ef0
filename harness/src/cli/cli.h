// The `ilk` command line: one file per subcommand, each with its options
// (add_*_command) and what it does (cmd_*); common.cpp holds what they share,
// and main.cpp only builds the app, parses and dispatches.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "matrix.h"
#include "profile.h"
#include "registry.h"

namespace CLI {
class App;
class Validator;
}

namespace ilk::cli {

// Exit codes, shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;       // deviations under --fail-on-deviation, or the kit failed
inline constexpr int kExitBadInput = 2;     // usage, profile, target or plugin-dir errors
inline constexpr int kExitSkipped = 77;     // ilk run --check: nothing failed, but a cell could not run (CTest's skip code)
inline constexpr int kExitNoneSafe = 3;     // ilk advise: no strategy is SAFE in that directory
inline constexpr int kExitInterrupted = 130;

// Shared helpers (common.cpp).
Registry load_registry(const std::vector<std::string>& plugin_dirs);
// Write through a temporary file and a rename; false with `error` set if not.
bool write_file(const std::filesystem::path& file, const std::string& text, std::string& error);
// Print or write a finished report; a file that cannot be written does not
// lose it (it goes to standard output, and the exit code says so).
int emit(const char* who, const std::string& text, const std::string& output, int rc);
// $TMPDIR, else /tmp: where journals' scratch directories (and kit-made targets) go.
std::filesystem::path tmpdir();
// Target names checked before anything is made: a kit-made name (the kit's
// own kinds or the registry's plugins') must exist (did-you-mean), a directory
// must be usable. Returns false after saying why.
bool check_target_specs(const char* who, const std::vector<std::string>& specs, const Registry& registry);
// --nfs NAME|all (with --guest IMAGE): false after saying why.
bool check_network_mount_args(const char* who, const std::vector<std::string>& nfs, const std::string& guest, const Registry& registry);
// The network mounts --nfs names, in the registry's order.
std::vector<const NetworkMountDescriptor*> chosen_network_mounts(const std::vector<std::string>& nfs, const Registry& registry);
// "2s", "500ms", "1.5s", "1m" -> milliseconds; nullopt when it is not one.
std::optional<double> parse_duration_ms(const std::string& text);
// A CLI11 check for such an option, naming the forms it takes.
CLI::Validator duration_validator();
// The profile to compare with: named, or the running OS's. Throws ProfileError.
PlatformProfile pick_profile(const std::string& name);
// The report directory, made before the run (counterexamples are written as
// they are found). If it cannot be made, a fresh one in $TMPDIR is used and
// the message says where, so no result is ever lost.
std::filesystem::path make_report_dir(const std::string& wanted);

// ilk probe (probe.cpp)
struct ProbeArgs {
    std::vector<std::string> targets;
    std::string format = "text", output, platform;
    std::vector<std::string> primitives;
    bool fail_on_deviation = false, verbose = false, no_color = false;
    std::string guest;  // an image directory (ci/guest/image.sh): facts across this host and a guest sharing the target
    std::vector<std::string> nfs;  // network mounts (nfs-mounts plugin) to probe in an NFS lab of that image's guests; "all"
    int guest_timeout = 300;       // seconds a guest may take to boot and answer its agent
};
CLI::App* add_probe_command(CLI::App& app, ProbeArgs& a);
int cmd_probe(const ProbeArgs& a, const std::vector<std::string>& plugin_dirs);

// ilk run (run.cpp)
struct RunArgs {
    std::vector<std::string> strategies, scenarios, skip_scenarios, targets;
    std::string format = "text", output, schedule = "exhaustive", counterexample_dir, report_dir = "ilk-report", platform;
    std::uint64_t seed = 1;
    int trials = 200, bound = 2, faults = 1, max_schedules = 50, jobs = 0, depth = 3, pct_runs = 50;
    int server_trials = 10;
    bool no_reduce = false;
    std::string budget;  // "2s", "500ms"; empty: none
    bool no_color = false, quiet = false, no_probe = false;
    bool check = false;  // exit code by verdict (for CTest)
    std::string guest;             // an image directory (ci/guest/image.sh) for the NFS lab's guests
    std::vector<std::string> nfs;  // network mounts to run on, in an NFS lab of that image's guests; "all"
    int guest_timeout = 300;       // seconds a guest may take to boot and answer its agent
};
CLI::App* add_run_command(CLI::App& app, RunArgs& a);
int cmd_run(const RunArgs& a, const std::vector<std::string>& plugin_dirs);

// What `ilk run` and `ilk advise` share: the matrix run, with every file
// format already written into the report directory.
struct SavedRun {
    MatrixReport report;
    std::filesystem::path report_dir;
    std::vector<std::string> strategy_names;  // every strategy known, not only those run
    std::string rendered;                     // RunArgs::format's text, if it is one of the files
    int rc = kExitOk;                         // so far: interrupted, or a report file not written
};
// nullopt after saying why when the input is bad (names, profile, targets).
std::optional<SavedRun> run_and_save(const RunArgs& a, const std::vector<std::string>& plugin_dirs);

// ilk advise (advise.cpp): ilk run on one directory, then a recommendation.
struct AdviseArgs {
    RunArgs run;
    std::string dir;
};
CLI::App* add_advise_command(CLI::App& app, AdviseArgs& a);
int cmd_advise(const AdviseArgs& a, const std::vector<std::string>& plugin_dirs);

// ilk merge (merge.cpp)
struct MergeArgs {
    std::vector<std::string> inputs;
    std::string format = "text", output, html, markdown, junit, json;
    bool no_color = false;
};
CLI::App* add_merge_command(CLI::App& app, MergeArgs& a);
int cmd_merge(const MergeArgs& a);

// ilk replay (replay.cpp)
struct ReplayArgs {
    std::string file;
    int times = 1;
    std::string guest;       // a counterexample of a network mount: the image of the NFS lab to replay it in
    int guest_timeout = 300;
};
CLI::App* add_replay_command(CLI::App& app, ReplayArgs& a);
int cmd_replay(const ReplayArgs& a, const std::vector<std::string>& plugin_dirs);

// ilk list plugins|strategies|targets (list.cpp)
struct ListArgs {
    bool names_only = false, only_default = false;
    CLI::App *plugins = nullptr, *strategies = nullptr, *scenarios = nullptr, *targets = nullptr;  // which one ran: parsed()
};
CLI::App* add_list_command(CLI::App& app, ListArgs& a);
int cmd_list(const ListArgs& a, const std::vector<std::string>& plugin_dirs);

// ilk clean (clean.cpp)
CLI::App* add_clean_command(CLI::App& app);
int cmd_clean(const std::vector<std::string>& plugin_dirs);

// ilk agent (agent.cpp)
struct AgentArgs {
    int fd = 0;
};
CLI::App* add_agent_command(CLI::App& app, AgentArgs& a);
int cmd_agent(const AgentArgs& a, const std::vector<std::string>& plugin_dirs);

// ilk contender (contender.cpp): internal, the contender role (no help entry).
struct ContenderArgs {
    int fd = -1;
    bool zygote = false;
    pid_t parent = 0;
};
CLI::App* add_contender_command(CLI::App& app, ContenderArgs& a);
int cmd_contender(const ContenderArgs& a);

// ilk --generate man|bash-completion (manual.cpp): the manual page and the bash
// completion, from the app's definitions (hidden subcommands left out).
void write_man_page(CLI::App& app, const std::string& version, std::ostream& out);
void write_bash_completion(CLI::App& app, std::ostream& out);

}  // namespace ilk::cli
