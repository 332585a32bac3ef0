// Broken on purpose: its support probe never returns.
#include <unistd.h>

#include "ilk/plugin.h"

namespace {
ilk::OpResult acquire(int, std::int32_t) { return ilk::op_ok(); }
ilk::OpResult release(int) { return ilk::op_ok(); }
ilk::OpResult supported(const ilk::ProbeContext*) {
    for (;;) pause();
}
const ilk::LockOps kOps{acquire, release, nullptr};
const ilk::PrimitiveDescriptor kPrimitives[] = {{"probe-hang", ilk::PrimitiveKind::lock, "fake: hangs in supported()", 0,
                                                 supported, nullptr, &kOps, nullptr}};
const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "fake-probe-hang", "0", 1, kPrimitives};
}  // namespace

ILK_PLUGIN(kPlugin)
