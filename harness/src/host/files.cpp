#include "host/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "host/agent_protocol.h"
#include "host/host.h"
#include "journal.h"

namespace ilk {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& what, const fs::path& path, int err) {
    throw std::runtime_error(fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(err)));
}

fs::path checked_path(const json& request, const char* key) {
    const fs::path p = request.at(key).get<std::string>();
    if (!p.is_absolute()) throw std::runtime_error(fmt::format("file request: '{}' is not an absolute path", p.string()));
    for (const auto& part : p)
        if (part == "..") throw std::runtime_error(fmt::format("file request: '{}' has a '..' in it", p.string()));
    return p;
}

std::string read_capped(const fs::path& path, size_t max, bool* found) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    *found = fd >= 0;
    if (fd < 0) {
        if (errno == ENOENT) return {};
        fail("read", path, errno);
    }
    std::string out;
    char buf[8192];
    for (ssize_t n; out.size() < max && (n = ::read(fd, buf, std::min(sizeof buf, max - out.size()))) > 0;)
        out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

}  // namespace

// File contents travel as hex: a garbage pidfile is not UTF-8, which JSON text must be.
std::string to_hex(const std::string& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string from_hex(const std::string& hex) {
    auto value = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        throw std::runtime_error("file request: content is not lower-case hex");
    };
    if (hex.size() % 2) throw std::runtime_error("file request: content has an odd number of hex digits");
    std::string out;
    out.reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) out += static_cast<char>(value(hex[i]) << 4 | value(hex[i + 1]));
    return out;
}

json do_file_request(const json& r) {
    const std::string what = r.value("do", "");
    const fs::path path = checked_path(r, "path");
    json out = json::object();
    std::string error;
    if (what == "fresh") {
        if (!remove_tree_same_fs(path, &error)) throw std::runtime_error(fmt::format("cannot empty {}: {}", path.string(), error));
        std::error_code ec;
        fs::create_directories(path, ec);
        if (ec) fail("make", path, ec.value());
    } else if (what == "remove") {
        if (!remove_tree_same_fs(path, &error)) throw std::runtime_error(fmt::format("cannot remove {}: {}", path.string(), error));
    } else if (what == "read") {
        bool found = false;
        out["hex"] = to_hex(read_capped(path, r.value("max", size_t{1} << 16), &found));
        out["found"] = found;
    } else if (what == "write") {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, r.value("mode", 0600));
        if (fd < 0) fail("write", path, errno);
        const std::string content = from_hex(r.value("hex", ""));
        const bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
        const int err = errno;
        ::close(fd);
        if (!ok) fail("write", path, err);
    } else if (what == "unlink") {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("unlink", path, errno);
    } else if (what == "rename") {
        const fs::path to = checked_path(r, "to");
        if (::rename(path.c_str(), to.c_str()) != 0) fail(fmt::format("rename to {}", to.string()), path, errno);
    } else if (what == "own") {
        const uid_t uid = r.value("uid", 0u);
        if (::lchown(path.c_str(), uid, uid) != 0) fail("chown", path, errno);
        if (::chmod(path.c_str(), r.value("mode", 0600)) != 0) fail("chmod", path, errno);
    } else if (what == "list") {
        json names = json::array();
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(path, ec)) names.push_back(e.path().filename().string());
        if (ec) fail("list", path, ec.value());
        out["names"] = names;
    } else if (what == "exists") {
        struct stat st {};
        out["exists"] = ::lstat(path.c_str(), &st) == 0;
    } else if (what == "give") {
        const uid_t uid = r.value("uid", 0u);
        for (fs::path p = path.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
            struct stat st {};
            if (stat(p.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH))
                throw std::runtime_error(fmt::format("{} is not searchable by other users (mode {:o}), so contenders cannot run "
                                                     "under the dedicated uid {}: chmod o+x it or choose another --target",
                                                     p.string(), st.st_mode & 07777, uid));
        }
        if (::chown(path.c_str(), uid, uid) != 0) fail("chown", path, errno);
    } else {
        throw std::runtime_error(fmt::format("file request: unknown 'do': '{}'", what));
    }
    return out;
}

namespace {
json request(const char* what, const fs::path& path, json more = json::object()) {
    more["do"] = what;
    more["path"] = path.string();
    return more;
}
}  // namespace

void HostDir::fresh() const { host_->file(request("fresh", dir_)); }
void HostDir::remove() const { host_->file(request("remove", dir_)); }
std::optional<std::string> HostDir::read(const std::string& name, size_t max) const {
    const json r = host_->file(request("read", path(name), {{"max", max}}));
    if (!agent::said(r, "found", false)) return std::nullopt;
    std::string text = from_hex(agent::said(r, "hex", ""));
    if (text.size() > max) text.resize(max);  // an agent's answer is data: no more than was asked for
    return text;
}
void HostDir::write(const std::string& name, const std::string& content, int mode) const {
    host_->file(request("write", path(name), {{"hex", to_hex(content)}, {"mode", mode}}));
}
void HostDir::unlink(const std::string& name) const { host_->file(request("unlink", path(name))); }
void HostDir::rename(const std::string& name, const std::string& to) const {
    host_->file(request("rename", path(name), {{"to", path(to).string()}}));
}
void HostDir::own(const std::string& name, uid_t uid, int mode) const { host_->file(request("own", path(name), {{"uid", uid}, {"mode", mode}})); }
std::vector<std::string> HostDir::list() const { return agent::said(host_->file(request("list", dir_)), "names", std::vector<std::string>{}); }
bool HostDir::exists(const std::string& name) const { return agent::said(host_->file(request("exists", path(name))), "exists", false); }
void HostDir::give(uid_t uid) const { host_->file(request("give", dir_, {{"uid", uid}})); }

}  // namespace ilk
