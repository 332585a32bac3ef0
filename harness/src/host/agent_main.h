// `ilk agent`: a host of a run, driven over one byte stream (agent_protocol.h).
#pragma once

namespace ilk {

class Registry;

// Serve the harness on `fd` (read and written) until it goes away or says
// bye; everything started here ends with the agent.
int agent_main(int fd, const Registry& registry);

}  // namespace ilk
