// Byte helpers shared by the wallet's parts.
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";

export { bytesToHex, concatBytes, utf8ToBytes };

/** Bytes of a hex string, with or without 0x. */
export function fromHex(hex) {
  const h = String(hex).trim().replace(/^0x/i, "");
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error("not a hex string");
  return hexToBytes(h);
}

/** 0x-prefixed lowercase hex. */
export const toHex = (bytes) => "0x" + bytesToHex(bytes);

/** `n` as `width` big-endian bytes (n: a number or a BigInt). */
export function bigEndian(n, width) {
  let v = BigInt(n);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}
