// Broken on purpose: a "lock" that always grants and never excludes anyone.
#include "ilk/plugin.h"

namespace {
ilk::OpResult acquire(int, std::int32_t) { return ilk::op_ok(); }
ilk::OpResult release(int) { return ilk::op_ok(); }
ilk::OpResult query(int) { return ilk::op_ok(); }
ilk::OpResult supported(const ilk::ProbeContext*) { return ilk::op_ok(); }
const ilk::LockOps kOps{acquire, release, query};
const ilk::PrimitiveDescriptor kPrimitives[] = {{"never-excludes", ilk::PrimitiveKind::lock, "fake: grants every request",
                                                 ilk::kLockCanQuery | ilk::kLockCanBlock, supported, nullptr, &kOps, nullptr}};
const ilk::PluginDescriptor kPlugin{ilk::kPluginApiVersion, "fake-never-excludes", "0", 1, kPrimitives};
}  // namespace

ILK_PLUGIN(kPlugin)
