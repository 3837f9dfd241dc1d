// An EIP-1559 (type 2) transaction signed in the page: RLP as the yellow
// paper defines it, the signing hash keccak256(0x02 ‖ rlp(fields)), and the
// raw transaction 0x02 ‖ rlp(fields ‖ yParity, r, s) that
// eth_sendRawTransaction takes — what geth and alloy compute.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concatBytes, fromHex, toHex } from "./bytes.js";

/** Minimal big-endian bytes of a non-negative integer (0: empty). */
function int(n) {
  let v = BigInt(n);
  if (v < 0n) throw new Error("a transaction field is negative");
  const out = [];
  while (v > 0n) { out.unshift(Number(v & 0xffn)); v >>= 8n; }
  return Uint8Array.from(out);
}

function stripZeros(b) {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.slice(i);
}

function lengthPrefix(n, offset) {
  if (n < 56) return Uint8Array.of(offset + n);
  const l = int(n);
  return concatBytes(Uint8Array.of(offset + 55 + l.length), l);
}

/** RLP of bytes or (nested) arrays of bytes. */
export function rlp(x) {
  if (x instanceof Uint8Array) {
    if (x.length === 1 && x[0] < 0x80) return x;
    return concatBytes(lengthPrefix(x.length, 0x80), x);
  }
  const body = concatBytes(...x.map(rlp));
  return concatBytes(lengthPrefix(body.length, 0xc0), body);
}

/**
 * The raw signed transaction (0x hex) of `tx` = {chainId, nonce,
 * maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data} (numbers as
 * hex strings, numbers or BigInts), signed with secret `sk`.
 */
export function signEip1559(sk, tx) {
  const fields = [int(tx.chainId), int(tx.nonce), int(tx.maxPriorityFeePerGas), int(tx.maxFeePerGas),
    int(tx.gas), fromHex(tx.to), int(tx.value || 0), fromHex(tx.data || "0x"), []];
  const digest = keccak_256(concatBytes(Uint8Array.of(2), rlp(fields)));
  const sig = secp256k1.sign(digest, sk, { prehash: false, format: "recovered" });
  const signed = [...fields, int(sig[0]), stripZeros(sig.slice(1, 33)), stripZeros(sig.slice(33, 65))];
  return toHex(concatBytes(Uint8Array.of(2), rlp(signed)));
}

/** The hash of a raw transaction (what the node answers for it). */
export const txHash = (rawHex) => toHex(keccak_256(fromHex(rawHex)));
