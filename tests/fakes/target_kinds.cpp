// Target kinds from a plugin, three of them broken on purpose: the kit must
// set up the good one, journal and undo its mount, and contain the others
// (a crash, a directory outside the scratch directory, a failure with its
// reason) as UNSUPPORTED targets with the cause. No primitives: a plugin may
// provide target kinds alone.
#include <sys/mount.h>
#include <sys/stat.h>

#include <csignal>
#include <string>

#include "ilk/plugin.h"

namespace {

// A tmpfs of its own inside the scratch directory, journaled first.
ilk::OpResult good_setup(const ilk::ProbeContext* ctx, ilk::TargetSetup* out) {
    const std::string dir = std::string(ctx->scratch_dir) + "/fake-good";
    if (ctx->journal(ctx->journal_self, "mount", dir.c_str()) != 0) return ilk::op_fail(ilk::OpStatus::error, 0, "cannot journal");
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ilk::op_errno("mkdir", errno);
    if (mount("ilk-fake-good", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m") != 0)
        return ilk::op_errno("mount -t tmpfs", errno);
    std::snprintf(out->dir, sizeof out->dir, "%s", dir.c_str());
    std::snprintf(out->info, sizeof out->info, "{\"made_by\": \"fake-target-kinds\"}");
    return ilk::op_ok();
}

ilk::OpResult crash_setup(const ilk::ProbeContext*, ilk::TargetSetup*) {
    std::raise(SIGSEGV);
    return ilk::op_ok();
}

// Names a directory it does not own: the harness must refuse to work there.
ilk::OpResult escape_setup(const ilk::ProbeContext*, ilk::TargetSetup* out) {
    std::snprintf(out->dir, sizeof out->dir, "/etc");
    return ilk::op_ok();
}

ilk::OpResult refuse_setup(const ilk::ProbeContext*, ilk::TargetSetup*) {
    return ilk::op_fail(ilk::OpStatus::unsupported, 0, "fake-refuse needs a module this kernel lacks: modprobe fake");
}

// A tool that does not exist: UNSUPPORTED before setup() is called.
const ilk::TargetToolRef kMissing[] = {{"ilk-no-such-tool", "ilk-fake-package"}};

const ilk::TargetKindDescriptor kKinds[] = {
    {"fake-good", "fake: tmpfs mounted by a plugin", ilk::kTargetNeedsRoot, 0, nullptr, good_setup},
    {"fake-crash", "fake: setup() dies of SIGSEGV", 0, 0, nullptr, crash_setup},
    {"fake-escape", "fake: setup() names /etc as its directory", 0, 0, nullptr, escape_setup},
    {"fake-refuse", "fake: setup() says unsupported, with the fix", 0, 0, nullptr, refuse_setup},
    {"fake-needs-tool", "fake: needs a tool nobody has", 0, 1, kMissing, good_setup},
};

const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "fake-target-kinds", "0", 0, nullptr, std::size(kKinds), kKinds};

}  // namespace

ILK_PLUGIN(kPlugin)
