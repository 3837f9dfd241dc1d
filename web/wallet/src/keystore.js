// geth's keystore (Web3 Secret Storage v3): scrypt or PBKDF2-SHA256 from the
// password, the MAC keccak256(dk[16..32] ‖ ciphertext) checked, then
// AES-128-CTR with dk[0..16]. Runs in the page; the password and the key
// never leave it.
import { ctr } from "@noble/ciphers/aes.js";
import { pbkdf2Async } from "@noble/hashes/pbkdf2.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, concatBytes, fromHex, utf8ToBytes } from "./bytes.js";

async function derive(c, password) {
  const p = c.kdfparams || {};
  const pw = utf8ToBytes(password);
  const salt = fromHex(p.salt || "");
  if (c.kdf === "scrypt") return scryptAsync(pw, salt, { N: p.n, r: p.r, p: p.p, dkLen: p.dklen, maxmem: 2 ** 31 });
  if (c.kdf === "pbkdf2" && p.prf === "hmac-sha256") return pbkdf2Async(sha256, pw, salt, { c: p.c, dkLen: p.dklen });
  throw new Error(`keystore key derivation ${JSON.stringify(c.kdf)} is not supported (scrypt or pbkdf2 with hmac-sha256)`);
}

/** The 32-byte secret in a keystore JSON text, decrypted with `password`. */
export async function decryptKeystore(text, password) {
  let ks;
  try { ks = JSON.parse(text); } catch { throw new Error("the keystore file is not JSON"); }
  const c = ks.crypto || ks.Crypto;
  if (!c || ks.version !== 3) throw new Error("not a version 3 keystore (geth's format)");
  if (c.cipher !== "aes-128-ctr") throw new Error(`keystore cipher ${JSON.stringify(c.cipher)} is not supported (aes-128-ctr)`);
  const dk = await derive(c, password);
  const ct = fromHex(c.ciphertext);
  const mac = bytesToHex(keccak_256(concatBytes(dk.slice(16, 32), ct)));
  if (mac !== String(c.mac).toLowerCase().replace(/^0x/, "")) throw new Error("wrong password for this keystore (its MAC does not match)");
  return ctr(dk.slice(0, 16), fromHex(c.cipherparams.iv)).decrypt(ct);
}
