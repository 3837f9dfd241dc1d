// The CIDv1 (raw codec, sha2-256, base32) of bytes, as src/privacy/content_id.rs
// and IPFS compute it: the page checks every sealed blob it is given against
// the CID the chain names before it opens it.
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "./bytes.js";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

function base32(bytes) {
  let out = "", bits = 0, value = 0;
  for (const b of bytes) {
    value = (value << 8) | b; bits += 8;
    while (bits >= 5) { out += ALPHABET[(value >>> (bits - 5)) & 31]; bits -= 5; }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** The CID string (bafkrei…) of `bytes`. */
export function cidOf(bytes) {
  return "b" + base32(concatBytes(Uint8Array.of(0x01, 0x55, 0x12, 0x20), sha256(bytes)));
}
