// Content addresses of sealed readings, as medchain's Rust side gives them
// (src/privacy/content_id.rs): the CIDv1 of the stored bytes with the raw
// codec (0x55) and a sha2-256 multihash, printed base32 lower-case with the
// multibase prefix "b" ("bafkrei…"), the address IPFS gives the same bytes
// added as a raw leaf. The chain keeps only the 32-byte digest.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "medchain/bytes.hpp"

namespace medchain::content_id {

// sha2-256 of `bytes` (libsodium): what PrivateRecords.addRecord takes as
// cidDigest.
Bytes32 digest(ByteSpan bytes);

// The CID string whose sha2-256 digest is `digest`.
std::string from_digest(const Bytes32& digest);

// The CID string of `bytes`.
std::string of(ByteSpan bytes);

// The digest inside a raw sha2-256 CIDv1 string; nullopt for any other
// text (another codec, hash or base, or not a CID at all).
std::optional<Bytes32> parse(std::string_view cid);

}  // namespace medchain::content_id
