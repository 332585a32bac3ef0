// Broken on purpose: the right API version, but no ilk_plugin factory.
#include "ilk/plugin.h"

namespace fake {
std::uint32_t api_version() { return ilk::kPluginApiVersion; }
}  // namespace fake
BOOST_DLL_ALIAS(fake::api_version, ilk_plugin_api_version)
