// The sandbox turns crashes and hangs into results instead of taking the caller down.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include "sandbox.h"

using namespace std::chrono_literals;

TEST(Sandbox, PayloadComesBack) {
    const auto r = ilk::run_sandboxed([] { return std::string(10000, 'x'); }, 2000ms);
    EXPECT_TRUE(r.completed);
    EXPECT_EQ(r.payload.size(), 10000u);
    EXPECT_EQ(r.failure(), "");
}

TEST(Sandbox, CrashIsReportedBySignalName) {
    const auto r = ilk::run_sandboxed([]() -> std::string { std::raise(SIGSEGV); return "unreachable"; }, 2000ms);
    EXPECT_FALSE(r.completed);
    EXPECT_EQ(r.signal, SIGSEGV);
    EXPECT_EQ(r.failure(), "killed by SIGSEGV");
}

TEST(Sandbox, HangIsKilledAfterTimeout) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = ilk::run_sandboxed([]() -> std::string { for (;;) pause(); }, 200ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_EQ(r.failure(), "timed out");
}

TEST(Sandbox, ExceptionBecomesExitCode) {
    const auto r = ilk::run_sandboxed([]() -> std::string { throw std::runtime_error("x"); }, 2000ms);
    EXPECT_FALSE(r.completed);
    EXPECT_EQ(r.exit_code, 3);
}
