// lockfile-unlinked: while A runs, a tmp cleaner or an admin deletes its
// lockfiles (postmaster.*), or renames a new file over them. A must still keep others out.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "engine/scenario.h"

namespace ilk {
Scenario scenario_lockfile_unlinked() {
    return {"lockfile-unlinked", "the lockfile is deleted or renamed over while the server runs", {"unlink", "rename-over"}, 1, 0, false,
            [](Trial& t, const std::string& variant) {
                scenario_util::start_server(t);
                for (const auto& e : std::filesystem::directory_iterator(t.datadir())) {
                    const std::string name = e.path().filename().string();
                    if (name.rfind("postmaster.", 0) != 0) continue;
                    if (variant == "unlink") {
                        unlink(e.path().c_str());
                    } else {
                        const std::string tmp = e.path().string() + ".new";
                        if (int fd = open(tmp.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600); fd >= 0) close(fd);
                        rename(tmp.c_str(), e.path().c_str());
                    }
                }
            },
            scenario_util::plain};
}
}  // namespace ilk
