// Opening a private reading exactly as src/privacy/{wrap,seal,envelope}.rs
// seal it, with the reader's key, in the page.
//
// wrap (106 bytes): 0x01 ‖ ephemeral key (33, compressed) ‖ nonce (24) ‖
//   XChaCha20-Poly1305(key = HKDF-SHA256(ikm = x of ECDH, salt = ephemeral ‖
//   reader compressed keys, info = "medchain/key-wrap/v1"), aad =
//   "medchain/key-wrap/v1" ‖ patient (32) ‖ version (8, BE)) of the 32-byte key.
// seal: 0x01 ‖ nonce (24) ‖ XChaCha20-Poly1305(aad = "medchain/record/v1" ‖
//   patient (32) ‖ device (20) ‖ sequence (8, BE)).
// envelope: 0x02 ‖ version (4, BE) ‖ content key wrapped to the patient's
//   data key of that version (106) ‖ sealed document.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bigEndian, concatBytes, fromHex, utf8ToBytes } from "./bytes.js";

const WRAP_TAG = utf8ToBytes("medchain/key-wrap/v1");
const RECORD_TAG = utf8ToBytes("medchain/record/v1");
export const WRAPPED_LEN = 106;

/** The 32-byte key in `wrapped`, for reader secret `sk`, patient and version. */
export function unwrapKey(wrapped, sk, patient, version) {
  if (wrapped.length !== WRAPPED_LEN || wrapped[0] !== 1) throw new Error(`a wrapped key is ${WRAPPED_LEN} bytes starting with version 1; got ${wrapped.length} bytes`);
  const eph = wrapped.slice(1, 34);
  const x = secp256k1.getSharedSecret(sk, eph, true).slice(1);
  const salt = concatBytes(eph, secp256k1.getPublicKey(sk, true));
  const kek = hkdf(sha256, x, salt, WRAP_TAG, 32);
  const aad = concatBytes(WRAP_TAG, fromHex(patient), bigEndian(version, 8));
  try {
    return xchacha20poly1305(kek, wrapped.slice(34, 58), aad).decrypt(wrapped.slice(58));
  } catch {
    throw new Error("the wrapped key did not open: not wrapped for this reader, this patient and version, or altered");
  }
}

/** The document in a sealed reading of (patient, device, sequence) under `key`. */
export function openSealed(sealed, key, patient, device, sequence) {
  if (sealed.length < 1 + 24 + 16 || sealed[0] !== 1) throw new Error("not a sealed document of format 1");
  const aad = concatBytes(RECORD_TAG, fromHex(patient), fromHex(device), bigEndian(sequence, 8));
  try {
    return xchacha20poly1305(key, sealed.slice(1, 25), aad).decrypt(sealed.slice(25));
  } catch {
    throw new Error("the reading did not authenticate: wrong key, wrong record, or altered bytes");
  }
}

/** The key version an envelope was sealed to. */
export function envelopeVersion(stored) {
  if (stored.length <= 5 + WRAPPED_LEN || stored[0] !== 2) throw new Error("the stored reading is not a sealed envelope (format 2)");
  return new DataView(stored.buffer, stored.byteOffset, stored.byteLength).getUint32(1, false);
}

/**
 * The FHIR document (text) of an envelope, with the patient's data secret of
 * its version (`dataSecret`, itself unwrapped with the reader's key).
 */
export function openEnvelope(stored, dataSecret, patient, device, sequence) {
  const version = envelopeVersion(stored);
  const contentKey = unwrapKey(stored.slice(5, 5 + WRAPPED_LEN), dataSecret, patient, version);
  const doc = openSealed(stored.slice(5 + WRAPPED_LEN), contentKey, patient, device, sequence);
  return new TextDecoder().decode(doc);
}
