// lockfile-unlinked: while A runs, a tmp cleaner or an admin deletes its
// lockfiles (postmaster.*, and the strategy's own lock file: mongod.lock,
// LOCK, ...), or renames a new file over them. A must still keep others out.
// A lock on the data directory itself is not a file to delete.
#include "engine/scenario.h"

namespace ilk {
Scenario scenario_lockfile_unlinked() {
    return {"lockfile-unlinked", "the lockfile is deleted or renamed over while the server runs", {"unlink", "rename-over"}, 1, 0, false,
            [](Trial& t, const std::string& variant) {
                scenario_util::start_server(t);
                const HostDir& dir = t.files();
                const std::string& own = t.strategy().lock_file;
                for (const std::string& name : dir.list()) {
                    if (name.rfind("postmaster.", 0) != 0 && name != own) continue;
                    if (variant == "unlink") {
                        dir.unlink(name);
                    } else {
                        dir.write(name + ".new", "");
                        // A real server runs as its own user: the file that replaces its own is one it can read.
                        if (t.strategy().server) dir.own(name + ".new", scenario_util::server_uid(t), 0600);
                        dir.rename(name + ".new", name);
                    }
                }
            },
            scenario_util::plain};
}
}  // namespace ilk
