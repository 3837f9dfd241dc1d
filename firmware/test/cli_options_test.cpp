#include <gtest/gtest.h>

#include "cli_options.hpp"

namespace medchain::host {
namespace {

TEST(CliOptions, ParsesEverything) {
    const CliOptions o =
        parse_cli({"--config", "d.json", "--outbox", "out", "--readings", "5", "--interval-ms", "250", "--ssn",
                   "123-45-6789", "--timeout-ms", "9000", "--seed", "7", "--history", "3", "--allow-remote"});
    EXPECT_EQ(o.config_path, "d.json");
    EXPECT_EQ(o.outbox_dir, "out");
    EXPECT_EQ(o.readings, 5u);
    EXPECT_EQ(o.interval_ms, 250u);
    EXPECT_EQ(o.ssn, "123-45-6789");
    EXPECT_EQ(o.timeout_ms, 9000u);
    EXPECT_EQ(o.seed, 7u);
    EXPECT_EQ(o.history, 3u);
    EXPECT_TRUE(o.allow_remote);
}

TEST(CliOptions, DefaultsAndStdinSsn) {
    const CliOptions o = parse_cli({"--config", "d.json", "--outbox", "out"});
    EXPECT_EQ(o.readings, 1u);
    EXPECT_FALSE(o.ssn.has_value());
    EXPECT_FALSE(o.allow_remote);
}

TEST(CliOptions, Rejects) {
    EXPECT_THROW(parse_cli({"--outbox", "out"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--readings", "-1"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--readings"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--bogus"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--ssn", ""}), UsageError);
    EXPECT_TRUE(parse_cli({"--help"}).help);
}

}  // namespace
}  // namespace medchain::host
