// Broken on purpose: supported, but acquire() segfaults (inside an actor).
#include <csignal>

#include "ilk/plugin.h"

namespace {
ilk::OpResult acquire(int, std::int32_t) {
    std::raise(SIGSEGV);
    return ilk::op_ok();
}
ilk::OpResult release(int) { return ilk::op_ok(); }
ilk::OpResult supported(const ilk::ProbeContext*) { return ilk::op_ok(); }
const ilk::LockOps kOps{acquire, release, nullptr};
const ilk::PrimitiveDescriptor kPrimitives[] = {{"lock-segfault", ilk::PrimitiveKind::lock, "fake: crashes in acquire()",
                                                 0, supported, nullptr, &kOps, nullptr}};
const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "fake-lock-segfault", "0", 1, kPrimitives};
}  // namespace

ILK_PLUGIN(kPlugin)
