// The files of trials' data directories, done by the host that holds them.
// A trial makes, reads and removes its data directory, and a scenario changes
// the files in it (a deleted lockfile, a corrupt pidfile), through the host of
// its first server: on a local target that is this machine, on an NFS export
// a client that mounts it (the harness's host does not see the export at all).
//
// A request is JSON, so an agent can do it (agent op `file`):
//   {"do": "fresh",  "path": P}                  remove P if present, make it empty
//   {"do": "remove", "path": P}                  remove the tree P (never crossing into another mount)
//   {"do": "read",   "path": P, "max": N}        -> found, hex (its first N bytes, in hex)
//   {"do": "write",  "path": P, "hex": C, "mode": M}      replace its content (made with mode M if new)
//   {"do": "unlink", "path": P}
//   {"do": "rename", "path": P, "to": Q}
//   {"do": "own",    "path": P, "uid": U, "mode": M}      chown to U:U, chmod M
//   {"do": "list",   "path": P}                  -> names
//   {"do": "exists", "path": P}                  -> exists
//   {"do": "give",   "path": P, "uid": U}        P's parents must be searchable by others; chown P to U:U
// Every path is absolute with no `..`; a failure throws std::runtime_error
// naming the path and the cause.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ilk {

class Host;

// Do one request on this machine.
nlohmann::json do_file_request(const nlohmann::json& request);
std::string to_hex(const std::string& bytes);
std::string from_hex(const std::string& hex);  // throws on what is not lower-case hex

// A directory on a host, and the requests on its files, typed.
class HostDir {
public:
    HostDir(Host& host, std::filesystem::path dir) : host_(&host), dir_(std::move(dir)) {}
    Host& host() const { return *host_; }
    const std::filesystem::path& path() const { return dir_; }
    std::filesystem::path path(const std::string& name) const { return dir_ / name; }

    void fresh() const;
    void remove() const;
    std::optional<std::string> read(const std::string& name, size_t max = 1 << 16) const;
    void write(const std::string& name, const std::string& content, int mode = 0600) const;
    void unlink(const std::string& name) const;
    void rename(const std::string& name, const std::string& to) const;
    void own(const std::string& name, uid_t uid, int mode) const;
    std::vector<std::string> list() const;
    bool exists(const std::string& name) const;
    void give(uid_t uid) const;

private:
    Host* host_;
    std::filesystem::path dir_;
};

}  // namespace ilk
