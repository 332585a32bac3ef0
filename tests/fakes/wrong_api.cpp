// Broken on purpose: built against a future API version.
#include <boost/dll/alias.hpp>
#include <cstdint>

namespace fake {
std::uint32_t api_version() { return 999; }
}  // namespace fake
BOOST_DLL_ALIAS(fake::api_version, ilk_plugin_api_version)
