#include <gtest/gtest.h>

#include "medchain/backoff.hpp"
#include "support/fake_clock.hpp"

namespace medchain {
namespace {

TEST(Backoff, DoublesUpToTheCap) {
    Backoff backoff(BackoffPolicy{100, 1'000, 2});
    std::vector<std::uint64_t> delays;
    for (int i = 0; i < 7; ++i) delays.push_back(backoff.next_delay_ms());
    EXPECT_EQ(delays, (std::vector<std::uint64_t>{100, 200, 400, 800, 1000, 1000, 1000}));
    EXPECT_EQ(backoff.failures(), 7u);
    backoff.reset();
    EXPECT_EQ(backoff.next_delay_ms(), 100u);
}

TEST(Backoff, NeverOverflows) {
    Backoff backoff(BackoffPolicy{UINT64_MAX / 3, UINT64_MAX, 4});
    backoff.next_delay_ms();
    EXPECT_EQ(backoff.next_delay_ms(), UINT64_MAX);
}

TEST(Retry, RetriesTransportErrorsWithGrowingSleeps) {
    test::FakeClock clock;
    int calls = 0;
    const int result = retry(
        [&] {
            if (++calls < 3) throw TransportError("down");
            return 42;
        },
        clock, 5, BackoffPolicy{500, 30'000, 2});
    EXPECT_EQ(result, 42);
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(clock.sleeps, (std::vector<std::uint64_t>{500, 1000}));
}

TEST(Retry, GivesUpAfterMaxAttempts) {
    test::FakeClock clock;
    int calls = 0;
    EXPECT_THROW(retry(
                     [&]() -> int {
                         ++calls;
                         throw ProtocolError("garbled");
                     },
                     clock, 3),
                 ProtocolError);
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(clock.sleeps.size(), 2u);
}

TEST(Retry, DoesNotRetryNodeErrors) {
    test::FakeClock clock;
    int calls = 0;
    EXPECT_THROW(retry(
                     [&]() -> int {
                         ++calls;
                         throw RpcError(-32000, "nope", nullptr);
                     },
                     clock, 5),
                 RpcError);
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(clock.sleeps.empty());
}

}  // namespace
}  // namespace medchain
