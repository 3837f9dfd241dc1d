// An Ethereum account held in the page: its address (EIP-55) and EIP-191
// personal_sign, the way geth, alloy and every wallet compute them.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, concatBytes, fromHex, toHex, utf8ToBytes } from "./bytes.js";

/** The EIP-55 checksummed form of a 20-byte address. */
export function checksum(addr20) {
  const hex = bytesToHex(addr20);
  const h = bytesToHex(keccak_256(utf8ToBytes(hex)));
  let out = "0x";
  for (let i = 0; i < 40; i++) out += parseInt(h[i], 16) >= 8 ? hex[i].toUpperCase() : hex[i];
  return out;
}

/** The address of an uncompressed (65-byte) public key. */
export function addressOfPublic(pub65) {
  return checksum(keccak_256(pub65.slice(1)).slice(12));
}

/** A 32-byte secret from a hex private key; throws when it is not one. */
export function parseSecret(hex) {
  let sk;
  try { sk = fromHex(hex); } catch { throw new Error("the private key is not hex (0x and 64 hex digits)"); }
  if (sk.length !== 32) throw new Error(`the private key is ${sk.length} bytes, expected 32 (64 hex digits)`);
  if (!secp256k1.utils.isValidSecretKey(sk)) throw new Error("the private key is not a valid secp256k1 key");
  return sk;
}

/** The digest personal_sign signs: keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message). */
export function personalDigest(text) {
  const msg = utf8ToBytes(text);
  return keccak_256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${msg.length}`), msg));
}

/** personal_sign of `text` with secret `sk`: 0x ‖ r ‖ s ‖ v (27/28), low s. */
export function personalSign(sk, text) {
  const sig = secp256k1.sign(personalDigest(text), sk, { prehash: false, format: "recovered" });
  const out = new Uint8Array(65);
  out.set(sig.slice(1, 65), 0);
  out[64] = 27 + sig[0];
  return toHex(out);
}
