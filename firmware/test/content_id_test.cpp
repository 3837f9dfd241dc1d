#include <gtest/gtest.h>

#include "medchain/content_id.hpp"
#include "medchain/hex.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

TEST(ContentId, MatchesRustForFixedBytes) {
    const auto& cases = test::vectors().at("private").at("cids");
    ASSERT_GE(cases.size(), 3u);
    for (const auto& c : cases) {
        const Bytes bytes = from_hex(c.at("bytes").get<std::string>());
        const std::string cid = c.at("cid").get<std::string>();
        EXPECT_EQ(to_hex(content_id::digest(bytes)), c.at("digest").get<std::string>());
        EXPECT_EQ(content_id::of(bytes), cid);
        EXPECT_EQ(content_id::from_digest(content_id::digest(bytes)), cid);
        const auto parsed = content_id::parse(cid);
        ASSERT_TRUE(parsed.has_value()) << cid;
        EXPECT_EQ(to_hex(*parsed), c.at("digest").get<std::string>());
    }
}

TEST(ContentId, HelloIsTheIpfsRawLeafAddress) {
    // The address `ipfs add --raw-leaves --cid-version 1` gives "hello"
    // (also pinned in src/privacy/content_id.rs).
    EXPECT_EQ(content_id::of("hello"), "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq");
}

TEST(ContentId, RefusesOtherCids) {
    EXPECT_FALSE(content_id::parse("QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"));
    EXPECT_FALSE(content_id::parse("bafybeid3weurg3gvyoi7nisadzolomlvoxoppe2sesktnpvdve3256n5tq"));
    EXPECT_FALSE(content_id::parse(""));
    EXPECT_FALSE(content_id::parse("b"));
    EXPECT_FALSE(content_id::parse("bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4ye"));   // short
    EXPECT_FALSE(content_id::parse("bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeQ"));  // upper case
}

}  // namespace
}  // namespace medchain
