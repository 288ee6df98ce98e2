// The browser verifier's pure parts against what Python computes (tests/web/test_verify_js.py
// writes the cases to $VERIFY_CASES): digests, RFC 9162 inclusion proofs, the selector.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { GET_ANCHOR, OWNER, accepts, decodeAnchor, digestHex, unhex, verifyInclusion } from "../src/portal/verify.js";

const cases = JSON.parse(readFileSync(process.env.VERIFY_CASES, "utf8"));

test("digests are Python's (RFC 8785 canonical JSON, SHA-256)", async () => {
  for (const { content, digest } of cases.digests) {
    assert.equal(await digestHex(content), digest, JSON.stringify(content));
  }
});

test("floats are refused, as the server refuses them", async () => {
  await assert.rejects(digestHex({ weight: 1.5 }));
});

test("inclusion proofs lead to the RFC 9162 vector roots; a changed leaf or index does not", async () => {
  for (const { leaf, index, size, proof, root } of cases.proofs) {
    const path = proof.map(unhex);
    assert.equal(await verifyInclusion(unhex(leaf), index, size, path, unhex(root)), true, `${index}/${size}`);
    const other = unhex(leaf + "ff");
    assert.equal(await verifyInclusion(other, index, size, path, unhex(root)), false);
    if (size > 1) assert.equal(await verifyInclusion(unhex(leaf), (index + 1) % size, size, path, unhex(root)), false);
  }
});

test("the getAnchor and owner selectors are web3's", () => {
  assert.equal(GET_ANCHOR, cases.selector);
  assert.equal(OWNER, cases.owner_selector);
});

test("a submitter counts only if the trust file accepts it, and not after its revocation", () => {
  const a = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const trust = { submitters: [a], revoked: { [a.toLowerCase()]: 10 } };
  assert.equal(accepts(trust, a.toLowerCase(), 10), true);
  assert.equal(accepts(trust, a, 11), false);
  assert.equal(accepts({ submitters: [a] }, a, 11), true);
  assert.equal(accepts(trust, "0x" + "1".repeat(40), 1), false);
});

test("getAnchor's return is decoded; an unknown root is null", () => {
  const { result, block, timestamp, submitter, size } = cases.anchor;
  assert.deepEqual(decodeAnchor(result), { block, timestamp, submitter, size });
  assert.equal(decodeAnchor("0x" + "0".repeat(64 * 6)), null);
});
