// ilk replay: run a counterexample file again and check it reaches the same
// verdict.
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/cli.h"
#include "engine/explorer.h"
#include "engine/real_server.h"
#include "engine/run.h"
#include "engine/trial.h"
#include "host/local_host.h"
#include "host/nfs.h"
#include "interrupt.h"
#include "journal.h"
#include "probe.h"

namespace fs = std::filesystem;

namespace ilk::cli {

CLI::App* add_replay_command(CLI::App& app, ReplayArgs& a) {
    CLI::App* replay = app.add_subcommand("replay", "Run a counterexample file again and check it reaches the same verdict");
    replay->add_option("file", a.file, "Counterexample file (from ilk run)")->required();
    replay->add_option("--times", a.times, "Replay this many times")->check(CLI::Range(1, 1000));
    replay->add_option("--guest", a.guest,
                       "A counterexample found on a network mount (ilk run --nfs): replay it on that mount in an NFS lab of this "
                       "guest image's guests");
    replay->add_option("--guest-timeout", a.guest_timeout, "Seconds a guest may take to boot and answer (default 300)")->check(CLI::Range(10, 3600));
    return replay;
}

int cmd_replay(const ReplayArgs& a, const std::vector<std::string>& plugin_dirs) {
    const std::string& file = a.file;
    const int times = a.times;
    ilk::Counterexample cx;
    try {
        std::ifstream in(file);
        if (!in) throw std::runtime_error(fmt::format("cannot read {}: {}", file, std::strerror(errno)));
        cx = ilk::Counterexample::from_json(nlohmann::json::parse(in));
        ilk::resolve_for_replay(cx, ilk::load_strategies_and_servers());
    } catch (const std::exception& e) {
        std::cerr << "ilk replay: " << file << ": " << e.what() << "\n";
        return kExitBadInput;
    }
    ilk::Registry registry = load_registry(plugin_dirs);
    const ilk::NetworkMountDescriptor* mount = nullptr;
    if (!cx.network_mount.empty()) {
        // What the file names is data: only a mount of the loaded plugins, set up by the kit in its own lab.
        if (const ilk::PluginNetworkMount* m = registry.find_network_mount(cx.network_mount)) mount = m->desc;
        if (!mount) {
            std::cerr << fmt::format("ilk replay: {}: found on the network mount '{}', which no loaded plugin knows (ilk list targets)\n", file,
                                     cx.network_mount);
            return kExitBadInput;
        }
        if (a.guest.empty()) {
            std::cerr << fmt::format("ilk replay: {}: found on the network mount {} with servers on two NFS clients: replay it in an NFS "
                                     "lab with --guest IMAGE (ci/guest/image.sh 6.1 --ilk BUILD_DIR)\n", file, cx.network_mount);
            return kExitBadInput;
        }
    }
    ilk::install_interrupt_handlers();
    ilk::clean_stale_journals(registry);
    ilk::Journal journal = ilk::Journal::begin(tmpdir());
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    ilk::Lab lab(registry, journal, journal.scratch());
    for (const auto& p : registry.primitives())
        if (p.desc->name == cx.strategy.lock || p.desc->name == cx.strategy.segment) ilk::check_primitive(lab, p);
    int same = 0;
    auto replays = [&](const ilk::TrialEnv& env) {
        for (int i = 0; i < times && !ilk::g_interrupted; ++i) {
            std::optional<ilk::Violation> v;
            const ilk::Verdict got = ilk::replay(env, cx, &v);
            same += got == cx.verdict;
            std::cout << fmt::format("replay {}: {}{}\n", i + 1, ilk::to_string(got), v ? ": " + v->explanation : "");
        }
    };
    int rc = kExitOk;
    if (mount) {
        try {
            ilk::NfsLab nfs(std::filesystem::absolute(a.guest), {mount}, journal, std::chrono::seconds(a.guest_timeout));
            if (const std::string& why = nfs.mount(mount->name).error; !why.empty()) throw std::runtime_error(why);
            ilk::NetworkEnv net(registry, nfs, mount->name);
            replays(net.env);
        } catch (const std::exception& e) {
            std::cerr << fmt::format("ilk replay: the NFS lab for {} failed: {}\n", mount->name, e.what());
            rc = kExitFailed;
        }
    } else {
        ilk::TrialEnv env;
        env.registry = &registry;
        env.journal = &journal;
        env.workdir = journal.scratch();
        ilk::LocalHost local(registry, &journal, "/proc/self/exe");  // this very binary, even if its file was replaced
        env.host = &local;
        replays(env);
    }
    journal.finish(registry);
    if (rc != kExitOk) return rc;
    std::cout << fmt::format("{} of {} replays reached {} ({} under {}{}, schedule [{}])\n", same, times, ilk::to_string(cx.verdict),
                             cx.strategy.name, cx.scenario, cx.variant.empty() ? "" : "/" + cx.variant, fmt::join(cx.schedule, " "));
    if (ilk::g_interrupted) return kExitInterrupted;
    return same == times ? kExitOk : kExitFailed;
}

}  // namespace ilk::cli
