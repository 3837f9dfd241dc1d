// Solidity ABI encoding of a contract call, for the few argument types the
// console's writes use (bytes32, address, bool, uintN, bytes, string, and
// arrays of uintN, address and bytes): selector = keccak256(signature)[0..4], then the
// head/tail layout of the ABI specification.
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bigEndian, concatBytes, fromHex, utf8ToBytes } from "./bytes.js";

const word = (n) => bigEndian(n, 32);

function padRight(b) {
  const out = new Uint8Array(Math.ceil(b.length / 32) * 32);
  out.set(b);
  return out;
}

function fixedBytes(v, n, what) {
  const b = fromHex(v);
  if (b.length !== n) throw new Error(`${what} ${v}: expected ${n} bytes (0x and ${2 * n} hex digits)`);
  return b;
}

/** One static value as its 32-byte word. */
function staticWord(type, v) {
  if (type === "bytes32") return fixedBytes(v, 32, "id");
  if (type === "address") return concatBytes(new Uint8Array(12), fixedBytes(v, 20, "address"));
  if (type === "bool") return word(v ? 1 : 0);
  if (/^uint\d+$/.test(type)) return word(v);
  throw new Error(`ABI type ${type} is not supported here`);
}

const dynBytes = (v) => { const b = fromHex(v); return concatBytes(word(b.length), padRight(b)); };

/** The encoding of a dynamic value (bytes or an array), or null when static. */
function dynamicPart(type, v) {
  if (type === "bytes") return dynBytes(v);
  if (type === "string") { const b = utf8ToBytes(v); return concatBytes(word(b.length), padRight(b)); }
  if (type === "bytes[]") return concatBytes(word(v.length), encodeArgs(v.map(() => "bytes"), v));
  if (type.endsWith("[]")) return concatBytes(word(v.length), ...v.map((x) => staticWord(type.slice(0, -2), x)));
  return null;
}

/** The head/tail encoding of `values` of `types`. */
export function encodeArgs(types, values) {
  const heads = [], tails = [];
  let tailLen = 0;
  types.forEach((t, i) => {
    const dyn = dynamicPart(t, values[i]);
    if (dyn === null) { heads.push(staticWord(t, values[i])); return; }
    heads.push(word(32 * types.length + tailLen));
    tails.push(dyn);
    tailLen += dyn.length;
  });
  return concatBytes(...heads, ...tails);
}

/** Call data of `name(types…)` with `values`, as 0x hex. */
export function encodeCall(name, types, values) {
  const selector = keccak_256(utf8ToBytes(`${name}(${types.join(",")})`)).slice(0, 4);
  return "0x" + Array.from(concatBytes(selector, encodeArgs(types, values)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The reason string of a revert's `Error(string)` data, or null. */
export function revertReason(dataHex) {
  let d;
  try { d = fromHex(dataHex || ""); } catch { return null; }
  if (d.length < 68 || d[0] !== 0x08 || d[1] !== 0xc3 || d[2] !== 0x79 || d[3] !== 0xa0) return null;
  const len = Number(new DataView(d.buffer, d.byteOffset + 36 + 24, 8).getBigUint64(0));
  return new TextDecoder().decode(d.slice(68, 68 + len));
}
