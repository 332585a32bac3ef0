// Broken on purpose: crashes while being loaded (a static constructor).
#include <csignal>

#include "ilk/plugin.h"

namespace {
struct CrashAtLoad {
    CrashAtLoad() { std::raise(SIGSEGV); }
} g_crash;

ilk::OpResult acquire(int, std::int32_t) { return ilk::op_ok(); }
ilk::OpResult release(int) { return ilk::op_ok(); }
ilk::OpResult supported(const ilk::ProbeContext*) { return ilk::op_ok(); }
const ilk::LockOps kOps{acquire, release, nullptr};
const ilk::PrimitiveDescriptor kPrimitives[] = {{"load-crash", ilk::PrimitiveKind::lock, "fake: crashes at load", 0,
                                                 supported, nullptr, &kOps, nullptr}};
const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "fake-load-crash", "0", 1, kPrimitives};
}  // namespace

ILK_PLUGIN(kPlugin)
