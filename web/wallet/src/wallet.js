// The console's in-page wallet (window.medchainWallet). A key imported here
// (hex, or a geth keystore and its password) lives only in this closure, in
// the page's memory: it is never sent anywhere, never stored, and gone when
// the page is closed or the user signs out. It signs the sign-in message and
// opens sealed readings, builds the consent payloads (keywrap.js) and signs
// transactions (tx.js); the server never sees it.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { addressOfPublic, checksum, parseSecret, personalDigest, personalSign } from "./account.js";
import { bytesToHex, fromHex, toHex } from "./bytes.js";
import { cidOf } from "./cid.js";
import { decryptKeystore } from "./keystore.js";
import { encodeCall, revertReason } from "./abi.js";
import { grantWraps, rotateWraps, wrapKey } from "./keywrap.js";
import { envelopeVersion, openEnvelope, unwrapKey } from "./records.js";
import { rlp, signEip1559, txHash } from "./tx.js";

function holder(sk) {
  const address = addressOfPublic(secp256k1.getPublicKey(sk, false));
  const dataKeys = new Map(); // "patient/version" -> data secret
  return Object.freeze({
    address,
    /** personal_sign of `text`. */
    signMessage: (text) => personalSign(sk, text),
    /**
     * Opens one private reading: `stored` (bytes from the store), checked
     * against `cid`; the data key of its version unwrapped from `wrappedHex`
     * (the key the chain holds wrapped to this reader).
     */
    openReading({ stored, cid, wrappedHex, patient, device, sequence }) {
      const got = cidOf(stored);
      if (got !== cid) throw new Error(`the store's bytes hash to ${got}, not ${cid}: altered, not opened`);
      const version = envelopeVersion(stored);
      const slot = `${patient}/${version}`;
      if (!dataKeys.has(slot)) {
        if (!wrappedHex || wrappedHex === "0x") throw new Error(`no key of version ${version} is wrapped to ${address}: no consent for records sealed to it`);
        dataKeys.set(slot, unwrapKey(fromHex(wrappedHex), sk, patient, version));
      }
      return openEnvelope(stored, dataKeys.get(slot), patient, device, sequence);
    },
    /** grantConsent's versions and keys for `readerKey` (see keywrap.js). */
    grantWraps: ({ patient, mine, readerKey }) => grantWraps(sk, patient, mine, readerKey),
    /** revokeConsent's new data key and its wraps (see keywrap.js). */
    rotateWraps: ({ patient, next, keepers }) => rotateWraps(sk, address, patient, next, keepers),
    /** The raw EIP-1559 transaction `tx`, signed with this key. */
    signTransaction: (tx) => signEip1559(sk, tx),
  });
}

/** A wallet from a hex private key. */
export function fromPrivateKey(hex) {
  return holder(parseSecret(hex));
}

/** A wallet from a geth keystore (JSON text) and its password. */
export async function fromKeystore(json, password) {
  return holder(await decryptKeystore(json, password));
}

/** The compressed public key of a 32-byte secret (for tests). */
export const publicKeyOf = (sk) => secp256k1.getPublicKey(sk, true);

/** The address that signed `text` with personal_sign `signatureHex`. */
export function recoverAddress(text, signatureHex) {
  const sig = fromHex(signatureHex);
  const rec = Uint8Array.of(sig[64] >= 27 ? sig[64] - 27 : sig[64], ...sig.slice(0, 64));
  const pub = secp256k1.recoverPublicKey(rec, personalDigest(text), { prehash: false });
  return addressOfPublic(secp256k1.Point.fromBytes(pub).toBytes(false));
}

// The format primitives, for tests against the Rust vectors (they hold no key).
export { bytesToHex, checksum, cidOf, encodeCall, envelopeVersion, fromHex, openEnvelope, revertReason, rlp, toHex, txHash, unwrapKey, wrapKey };
