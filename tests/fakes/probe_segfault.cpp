// Broken on purpose: segfaults in its support probe.
#include <csignal>

#include "ilk/plugin.h"

namespace {
ilk::OpResult acquire(int, std::int32_t) { return ilk::op_ok(); }
ilk::OpResult release(int) { return ilk::op_ok(); }
ilk::OpResult supported(const ilk::ProbeContext*) {
    std::raise(SIGSEGV);
    return ilk::op_ok();
}
const ilk::LockOps kOps{acquire, release, nullptr};
const ilk::PrimitiveDescriptor kPrimitives[] = {{"probe-segfault", ilk::PrimitiveKind::lock, "fake: crashes in supported()",
                                                 0, supported, nullptr, &kOps, nullptr}};
const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "fake-probe-segfault", "0", 1, kPrimitives};
}  // namespace

ILK_PLUGIN(kPlugin)
