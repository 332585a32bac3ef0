#include "engine/channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "interrupt.h"

namespace ilk {

Channel& Channel::operator=(Channel&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = o.fd_;
        buffer_ = std::move(o.buffer_);
        o.fd_ = -1;
    }
    return *this;
}

Channel::~Channel() { close(); }

void Channel::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool Channel::send(const nlohmann::json& message) {
    if (fd_ < 0) return false;
    // Replace bytes that are not UTF-8 (a program's output relayed by an agent) rather than throw.
    const std::string line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    size_t off = 0;
    while (off < line.size()) {
        ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) n = ::write(fd_, line.data() + off, line.size() - off);  // a pipe or a serial port
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

std::optional<nlohmann::json> Channel::receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const size_t nl = buffer_.find('\n'); nl != std::string::npos) {
            const std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            auto parsed = nlohmann::json::parse(line, nullptr, false);
            if (parsed.is_discarded()) {
                why_ = "garbled message: " + line.substr(0, 80);
                return std::nullopt;
            }
            return parsed;
        }
        if (fd_ < 0) {
            why_ = "channel closed";
            return std::nullopt;
        }
        if (g_interrupted.load()) {
            why_ = "interrupted";
            return std::nullopt;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{fd_, POLLIN, 0};
        const int n = poll(&p, 1, static_cast<int>(std::max<long>(0, left.count())));  // a zero timeout still looks once
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (left.count() > 0) continue;
            why_ = "timed out";
            return std::nullopt;
        }
        if (buffer_.size() > kMaxMessage) {  // what the other end says is data: no line without end
            why_ = fmt::format("a message longer than {} bytes", kMaxMessage);
            buffer_.clear();
            close();
            return std::nullopt;
        }
        char buf[4096];
        ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
        if (got < 0 && errno == ENOTSOCK) got = ::read(fd_, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            why_ = "the other end closed the channel";
            return std::nullopt;
        }
        buffer_.append(buf, static_cast<size_t>(got));
    }
}

}  // namespace ilk
