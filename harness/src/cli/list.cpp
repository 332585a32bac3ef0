// ilk list plugins|strategies|scenarios|targets: what is available here.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/cli.h"
#include "engine/real_server.h"
#include "engine/scenario.h"
#include "engine/strategy.h"
#include "target.h"

namespace ilk::cli {

namespace {

int cmd_list_plugins(const std::vector<std::string>& plugin_dirs) {
    const ilk::Registry registry = load_registry(plugin_dirs);
    for (const auto& plugin : registry.plugins()) {
        std::cout << fmt::format("{} {} ({})\n", plugin.name, plugin.version, plugin.library.string());
        for (const auto& p : registry.primitives())
            if (p.plugin == plugin.name)
                std::cout << fmt::format("  {:<10} {:<8} {}\n", p.desc->name,
                                         p.desc->kind == ilk::PrimitiveKind::lock ? "lock" : "segment", p.desc->summary);
        for (const auto& k : registry.target_kinds())
            if (k.plugin == plugin.name) std::cout << fmt::format("  {:<10} {:<8} {}\n", k.desc->name, "target", k.desc->summary);
        for (const auto& m : registry.network_mounts())
            if (m.plugin == plugin.name) std::cout << fmt::format("  {:<10} {:<8} {}\n", m.desc->name, "mount", m.desc->summary);
    }
    for (const auto& f : registry.failures()) std::cout << fmt::format("NOT LOADED {}: {}\n", f.library.string(), f.cause);
    return registry.failures().empty() ? kExitOk : kExitFailed;
}

// Strategies from the strategy files, then the real servers: name and summary
// (or names only, for scripts); only_default: those ilk run covers unnamed
// (a real server runs only when named).
int cmd_list_strategies(bool names_only, bool only_default) {
    try {
        for (const auto& s : ilk::load_strategies_and_servers()) {
            if (only_default && s.server) continue;
            const std::string real = !s.server                ? ""
                                     : s.server->model.empty() ? "  (real server; run when named)"
                                                               : fmt::format("  (real server, modelled by {}; run when named)", s.server->model);
            std::cout << (names_only ? s.name + "\n" : fmt::format("{:<24} {}{}\n", s.name, s.summary, real));
        }
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return kExitBadInput;
    }
    return kExitOk;
}

// Scenarios: name, summary and variants; those of network mounts apart (ilk run --nfs).
int cmd_list_scenarios(bool names_only) {
    for (const bool network : {false, true}) {
        if (network && !names_only) std::cout << "\non network mounts, in an NFS lab of guests (ilk run --guest IMAGE --nfs NAME):\n";
        for (const ilk::Scenario& s : ilk::scenarios()) {
            if (s.network != network) continue;
            std::string variants;
            for (const std::string& v : s.variants)
                if (!v.empty()) variants += (variants.empty() ? "  [" : ", ") + v;
            if (!variants.empty()) variants += "]";
            std::cout << (names_only ? std::string(s.name) + "\n"
                                     : fmt::format("{:<24} {}{}{}\n", s.name, s.summary, variants, s.needs_root ? "  (needs root)" : ""));
        }
    }
    return kExitOk;
}

// Kit-made targets (the kit's own kinds, then plugins'), and whether they can
// be set up here; --default: the running OS profile's targets (what `ilk run`
// with no --target covers).
int cmd_list_targets(bool names_only, bool only_default, const std::vector<std::string>& plugin_dirs) {
    const ilk::Registry registry = load_registry(plugin_dirs);
    std::vector<std::string> names;
    if (only_default) {
        try {
            names = pick_profile("").targets;
        } catch (const ilk::ProfileError& e) {
            std::cerr << e.what() << "\n";
            return kExitBadInput;
        }
    }
    if (names.empty()) names = ilk::target_kind_names(only_default ? nullptr : &registry);
    for (const std::string& n : names) {
        const auto k = ilk::find_target_kind(n, &registry);
        if (names_only || !k) {
            std::cout << n << "\n";
            continue;
        }
        std::string here = k->plugin.empty() ? "" : fmt::format("  (plugin {})", k->plugin);
        if (k->needs_root && geteuid() != 0) here += "  [needs root]";
        for (const ilk::TargetTool& t : k->tools)
            if (ilk::find_tool(t.binary).empty()) here += fmt::format("  [{} missing: apt-get install {}]", t.binary, t.package);
        std::cout << fmt::format("{:<13} {}{}\n", n, k->summary, here);
    }
    // Network mounts are made in guests (ilk run|probe --guest IMAGE --nfs NAME), not by --target.
    if (!names_only && !only_default && !registry.network_mounts().empty()) {
        std::cout << "\nnetwork mounts, in an NFS lab of guests (ilk run|probe --guest IMAGE --nfs NAME):\n";
        for (const auto& m : registry.network_mounts())
            std::cout << fmt::format("{:<22} {}  (-o {}; plugin {})\n", m.desc->name, m.desc->summary, m.desc->mount_options, m.plugin);
    }
    return kExitOk;
}

}  // namespace

CLI::App* add_list_command(CLI::App& app, ListArgs& a) {
    CLI::App* list = app.add_subcommand("list", "List what is available");
    list->require_subcommand(1);
    a.plugins = list->add_subcommand("plugins", "Plugins that loaded, their primitives, and those that did not load");
    a.strategies = list->add_subcommand("strategies", "Strategies (strategies/*.toml and ILK_STRATEGY_PATH)");
    a.strategies->add_flag("--names", a.names_only, "Names only, one per line");
    a.strategies->add_flag("--default", a.only_default, "Only those ilk run covers with no --strategy (not the real servers of servers/*.toml)");
    a.scenarios = list->add_subcommand("scenarios", "Scenarios, with their variants (those of network mounts apart)");
    a.scenarios->add_flag("--names", a.names_only, "Names only, one per line");
    a.targets = list->add_subcommand("targets", "Kit-made targets (the kit's and plugins') and whether they can be set up here");
    a.targets->add_flag("--names", a.names_only, "Names only, one per line");
    a.targets->add_flag("--default", a.only_default, "Only those ilk run covers with no --target (the platform profile's)");
    return list;
}

int cmd_list(const ListArgs& a, const std::vector<std::string>& plugin_dirs) {
    if (a.plugins->parsed()) return cmd_list_plugins(plugin_dirs);
    if (a.strategies->parsed()) return cmd_list_strategies(a.names_only, a.only_default);
    if (a.scenarios->parsed()) return cmd_list_scenarios(a.names_only);
    if (a.targets->parsed()) return cmd_list_targets(a.names_only, a.only_default, plugin_dirs);
    return kExitBadInput;
}

}  // namespace ilk::cli
