// The browser verifier's pure parts against what Python computes (tests/web/test_verify_js.py
// writes the cases to $VERIFY_CASES): digests, RFC 9162 inclusion proofs, the selector.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { GET_ANCHOR, decodeAnchor, digestHex, unhex, verifyInclusion } from "../src/portal/verify.js";

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

test("the getAnchor selector is web3's", () => {
  assert.equal(GET_ANCHOR, cases.selector);
});

test("getAnchor's return is decoded; an unknown root is null", () => {
  const { result, block, timestamp, submitter, size } = cases.anchor;
  assert.deepEqual(decodeAnchor(result), { block, timestamp, submitter, size });
  assert.equal(decodeAnchor("0x" + "0".repeat(64 * 6)), null);
});
