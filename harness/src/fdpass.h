// Passing a file descriptor over a Unix socket (SCM_RIGHTS): how a forked
// actor hands back its channel and how the harness hands the zygote a
// contender's channel.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace ilk {

// Send len bytes and, if fd >= 0, the fd with them. True if all was sent.
bool send_with_fd(int sock, const void* data, std::size_t len, int fd);
// Receive up to len bytes; *fd gets a passed fd (close-on-exec) or -1.
ssize_t recv_with_fd(int sock, void* data, std::size_t len, int* fd);

}  // namespace ilk
