// Independent checks of medchain's privacy formats, for tests/privacy_formats.rs.
//   node check.mjs fhir FILE  -> validates the FHIR R4 resource in FILE with
//                                FHIR.js; prints {"valid":…,"messages":[…]}
//   node check.mjs cid FILE   -> prints the CIDv1 (raw codec, sha2-256) of
//                                FILE's bytes, computed with multiformats
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';

const [mode, file] = process.argv.slice(2);
if (mode === 'fhir') {
  const { Fhir } = createRequire(import.meta.url)('fhir');
  const resource = JSON.parse(readFileSync(file, 'utf8'));
  const result = new Fhir().validate(resource, { errorOnUnexpected: true });
  console.log(JSON.stringify({ valid: result.valid, messages: result.messages }));
} else if (mode === 'cid') {
  const digest = await sha256.digest(readFileSync(file));
  console.log(CID.create(1, raw.code, digest).toString());
} else {
  console.error('usage: node check.mjs fhir|cid FILE');
  process.exit(2);
}
