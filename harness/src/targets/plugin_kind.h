// A plugin's target kind as a TargetKind (see plugin_kind.cpp).
#pragma once

#include "targets/kind.h"

namespace ilk {

struct PluginTargetKind;

// `p` must outlive the result (the registry keeps it, and its library, loaded).
TargetKind plugin_target_kind(const PluginTargetKind& p);

}  // namespace ilk
