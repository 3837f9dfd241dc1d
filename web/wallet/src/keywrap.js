// Wrapping a patient's data key to a reader, exactly as src/privacy/wrap.rs
// does (ECIES on secp256k1: a fresh ephemeral key per wrap, HKDF-SHA256 over
// the ECDH x-coordinate with both compressed public keys as salt,
// XChaCha20-Poly1305 bound to patient and version), and the two consent
// payloads of src/privacy/consent.rs built from it: granting re-wraps every
// key version the patient holds to the reader; revoking draws a new data key
// and wraps it to everyone who keeps access.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { bigEndian, concatBytes, fromHex, toHex, utf8ToBytes } from "./bytes.js";
import { unwrapKey } from "./records.js";

const WRAP_TAG = utf8ToBytes("medchain/key-wrap/v1");

/** A reader's published key (64 bytes x ‖ y, as readerKey holds it) compressed. */
export function compressReaderKey(hex64) {
  const raw = fromHex(hex64);
  if (raw.length !== 64) throw new Error(`a reader key is 64 bytes; got ${raw.length}`);
  return secp256k1.Point.fromBytes(concatBytes(Uint8Array.of(4), raw)).toBytes(true);
}

/** `key` (32 bytes) wrapped to the compressed public key `reader33`: 106 bytes. */
export function wrapKey(key, reader33, patient, version) {
  const eph = secp256k1.utils.randomSecretKey();
  const ephPub = secp256k1.getPublicKey(eph, true);
  const x = secp256k1.getSharedSecret(eph, reader33, true).slice(1);
  const kek = hkdf(sha256, x, concatBytes(ephPub, reader33), WRAP_TAG, 32);
  const nonce = randomBytes(24);
  const aad = concatBytes(WRAP_TAG, fromHex(patient), bigEndian(version, 8));
  return concatBytes(Uint8Array.of(1), ephPub, nonce, xchacha20poly1305(kek, nonce, aad).encrypt(key));
}

/**
 * grantConsent's arguments: each version's data key, unwrapped with the
 * patient's secret `sk` from `mine` ([{version, wrapped}]), wrapped to
 * `readerKey` (64-byte hex from the chain).
 */
export function grantWraps(sk, patient, mine, readerKey) {
  const reader = compressReaderKey(readerKey);
  const versions = [], wrapped = [];
  for (const m of mine) {
    const secret = unwrapKey(fromHex(m.wrapped), sk, patient, m.version);
    versions.push(m.version);
    wrapped.push(toHex(wrapKey(secret, reader, patient, m.version)));
  }
  return { versions, wrapped };
}

/**
 * revokeConsent's arguments: a new data key of version `next` (its 33-byte
 * public key) wrapped to the patient (`sk`) and to `keepers`
 * ([{address, key}], key: 64-byte hex).
 */
export function rotateWraps(sk, selfAddress, patient, next, keepers) {
  const secret = secp256k1.utils.randomSecretKey();
  const to = [{ address: selfAddress, pub: secp256k1.getPublicKey(sk, true) },
    ...keepers.map((k) => ({ address: k.address, pub: compressReaderKey(k.key) }))];
  return {
    newDataKey: toHex(secp256k1.getPublicKey(secret, true)),
    readers: to.map((k) => k.address),
    wrapped: to.map((k) => toHex(wrapKey(secret, k.pub, patient, next))),
  };
}
