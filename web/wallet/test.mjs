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
