// Checks the committed bundle (../serve/wallet.js, what the console ships)
// against the Rust implementation's fixed vectors (firmware/test/vectors.json,
// written by examples/firmware_vectors.rs): an envelope sealed by Rust opens
// in the page's code to the same document, CIDs match, addresses and
// personal_sign agree with alloy's.   node --test test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const code = readFileSync(join(here, "..", "serve", "wallet.js"), "utf8");
const W = new Function(`${code};return medchainWallet;`)();
const vectors = JSON.parse(readFileSync(join(here, "..", "..", "firmware", "test", "vectors.json"), "utf8"));
const env = vectors.private.envelope;
const hex = (b) => Buffer.from(b).toString("hex");

test("an envelope sealed in Rust opens in the page to the same document", () => {
  const stored = W.fromHex(env.envelope);
  const secret = W.fromHex(env.data_secret_key);
  assert.equal(W.cidOf(stored), env.cid);
  assert.equal(W.envelopeVersion(stored), env.key_version);
  // The content key, wrapped by Rust to the data key of version 3.
  const content = W.unwrapKey(W.fromHex(env.wrapped_key), secret, env.patient, env.key_version);
  assert.equal(W.toHex(content), env.content_key);
  const doc = W.openEnvelope(stored, secret, env.patient, env.device, env.sequence);
  assert.equal(Buffer.from(doc).toString("hex"), env.document.slice(2));
  // The wrong record, version or key, and a flipped byte, do not open.
  assert.throws(() => W.openEnvelope(stored, secret, env.patient, env.device, "43"), /did not authenticate/);
  assert.throws(() => W.unwrapKey(W.fromHex(env.wrapped_key), secret, env.patient, 2), /did not open/);
  const flipped = stored.slice(); flipped[200] ^= 1;
  assert.throws(() => W.openEnvelope(flipped, secret, env.patient, env.device, env.sequence), /did not authenticate/);
  // The wallet refuses bytes that are not what the CID names, and a
  // version no key is wrapped to this reader for.
  const w = W.fromPrivateKey(env.data_secret_key);
  assert.throws(() => w.openReading({ stored: flipped, cid: env.cid, wrappedHex: "0x", patient: env.patient, device: env.device, sequence: env.sequence }), /altered/);
  assert.throws(() => w.openReading({ stored, cid: env.cid, wrappedHex: "0x", patient: env.patient, device: env.device, sequence: env.sequence }), /no key of version 3/);
});

test("CIDs equal Rust's for every vector", () => {
  for (const c of vectors.private.cids) assert.equal(W.cidOf(W.fromHex(c.bytes)), c.cid);
});

test("addresses are EIP-55 and personal_sign recovers to the signer", () => {
  for (const k of vectors.keys) {
    const w = W.fromPrivateKey(k.private_key);
    assert.equal(w.address, k.checksum_address);
    const text = "medchain.test wants you to sign in\nnonce 1";
    assert.equal(W.recoverAddress(text, w.signMessage(text)), k.checksum_address);
  }
  assert.throws(() => W.fromPrivateKey("0x1234"), /expected 32/);
  assert.throws(() => W.fromPrivateKey("zz"), /not hex/);
});

test("a key wrapped in the page unwraps for its reader, patient and version only", () => {
  const reader = W.fromHex("0x" + "05".repeat(32));
  const key = W.fromHex("0x" + "07".repeat(32));
  const patient = "0x" + "01".repeat(32);
  const w = W.wrapKey(key, W.publicKeyOf(reader), patient, 3);
  assert.equal(w.length, 106);
  assert.equal(W.toHex(W.unwrapKey(w, reader, patient, 3)), W.toHex(key));
  assert.throws(() => W.unwrapKey(w, reader, patient, 4), /did not open/);
});

test("ABI call data and revert reasons", () => {
  // ERC-20 transfer(address,uint256), the textbook example.
  assert.equal(W.encodeCall("transfer", ["address", "uint256"], ["0x" + "11".repeat(20), 1]),
    "0xa9059cbb" + "0".repeat(24) + "11".repeat(20) + "0".repeat(63) + "1");
  // A dynamic bytes[] argument: offset, length, offsets, then each padded.
  const d = W.encodeCall("f", ["bytes[]"], [["0xaa"]]);
  assert.equal(d.length, 2 + 8 + 64 * 5);
  const err = "0x08c379a0" + "0".repeat(62) + "20" + "0".repeat(62) + "03" + "616263" + "0".repeat(58);
  assert.equal(W.revertReason(err), "abc");
  assert.equal(W.revertReason("0x"), null);
});

test("RLP as the yellow paper gives it", () => {
  assert.equal(W.toHex(W.rlp(new TextEncoder().encode("dog"))), "0x83646f67");
  assert.equal(W.toHex(W.rlp([new TextEncoder().encode("cat"), new TextEncoder().encode("dog")])), "0xc88363617483646f67");
  assert.equal(W.toHex(W.rlp(new Uint8Array(0))), "0x80");
  assert.equal(W.toHex(W.rlp([])), "0xc0");
});

test("a string argument is encoded as the ABI's dynamic bytes (addHospital)", () => {
  const data = W.encodeCall("addHospital", ["address", "string"], ["0x" + "11".repeat(20), "east ward"]);
  const words = data.slice(10).match(/.{64}/g);
  assert.equal(words.length, 4);
  assert.equal(words[0], "0".repeat(24) + "11".repeat(20));
  assert.equal(BigInt("0x" + words[1]), 64n); // offset of the string
  assert.equal(BigInt("0x" + words[2]), 9n); // its length in bytes
  assert.equal(words[3], Buffer.from("east ward").toString("hex").padEnd(64, "0"));
});
