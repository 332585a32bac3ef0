// The control channel between the harness and a contender: newline-delimited
// JSON over a stream socket, so the same protocol works across hosts later.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ilk {

class Channel {
public:
    // The longest line receive() takes (an exec's output is 1 MiB hex-encoded):
    // past it without a newline the channel is closed, as garbled.
    static constexpr std::size_t kMaxMessage = 16u << 20;

    Channel() = default;
    explicit Channel(int fd) : fd_(fd) {}
    Channel(Channel&& o) noexcept : fd_(o.fd_), buffer_(std::move(o.buffer_)) { o.fd_ = -1; }
    Channel& operator=(Channel&& o) noexcept;
    ~Channel();

    int fd() const { return fd_; }
    bool open() const { return fd_ >= 0; }
    void close();

    bool send(const nlohmann::json& message);
    // The next message, or nullopt on EOF, error, timeout or interrupt (why() says which).
    std::optional<nlohmann::json> receive(std::chrono::milliseconds timeout);
    const std::string& why() const { return why_; }
    bool has_buffered() const { return buffer_.find('\n') != std::string::npos; }

private:
    int fd_ = -1;
    std::string buffer_;
    std::string why_;
};

}  // namespace ilk
