// lockfile-unlinked: while A runs, a tmp cleaner or an admin deletes its
// lockfiles (postmaster.*), or renames a new file over them. A must still keep others out.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_lockfile_unlinked() {
    return {"lockfile-unlinked", "the lockfile is deleted or renamed over while the server runs", {"unlink", "rename-over"}, 1, 0, false,
            [](Trial& t, const std::string& variant) {
                scenario_util::start_server(t);
                const HostDir& dir = t.files();
                for (const std::string& name : dir.list()) {
                    if (name.rfind("postmaster.", 0) != 0) continue;
                    if (variant == "unlink") {
                        dir.unlink(name);
                    } else {
                        dir.write(name + ".new", "");
                        dir.rename(name + ".new", name);
                    }
                }
            },
            scenario_util::plain};
}
}  // namespace ilk
