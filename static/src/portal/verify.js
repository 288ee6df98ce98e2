// "Verify this page" (issue 20 item 5): a proof bundle checked in the browser, as
// `python -m ledger.verify` checks it. Each event's digest is recomputed (SHA-256 over
// RFC 8785 canonical JSON, WebCrypto), the prev chain followed, each Merkle inclusion
// proof checked (RFC 9162, as ledger/merkle.py), and each root read from the registry
// through the deployment's JSON-RPC (eth_call getAnchor). What is trusted — registry,
// chain id, genesis hash, accepted submitters — comes from the published trust file,
// never from the bundle. Pure functions: tests run them in Node against Python's output.
import canonicalize from "canonicalize";

// keccak256("getAnchor(bytes32)")[:4] (tests check it against web3).
export const GET_ANCHOR = "0x7feb51d9";
// keccak256("owner()")[:4]: the registry's owner, the regulator the trust file names.
export const OWNER = "0x8da5cb5b";

const subtle = globalThis.crypto.subtle;

export function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(text) {
  const clean = String(text).replace(/^0x/, "");
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error("not hex");
  return Uint8Array.from(clean.match(/../g) || [], (h) => parseInt(h, 16));
}

async function sha256(bytes) {
  return new Uint8Array(await subtle.digest("SHA-256", bytes));
}

function join(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

// Floats have no place in hashed content (ledger/canonical.py refuses them).
function hasFloat(value) {
  if (typeof value === "number") return !Number.isInteger(value);
  if (Array.isArray(value)) return value.some(hasFloat);
  if (value && typeof value === "object") return Object.values(value).some(hasFloat);
  return false;
}

export function canonical(content) {
  if (hasFloat(content)) throw new Error("floats are not allowed in hashed content");
  return new TextEncoder().encode(canonicalize(content));
}

export async function digestHex(content) {
  return hex(await sha256(canonical(content)));
}

export const leafHash = (leaf) => sha256(join(Uint8Array.of(0), leaf));
export const nodeHash = (l, r) => sha256(join(Uint8Array.of(1), l, r));

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// RFC 9162 §2.1.3.2, as ledger/merkle.py verify_inclusion.
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  if (root.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  let fn = index;
  let sn = size - 1;
  let r = await leafHash(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && same(r, root);
}

// getAnchor's six 32-byte words: blockNumber, timestamp, submitter, size, seq, prevRoot.
export function decodeAnchor(result) {
  const data = String(result).replace(/^0x/, "");
  if (data.length < 64 * 6) return null;
  const word = (i) => data.slice(64 * i, 64 * (i + 1));
  const block = Number(BigInt("0x" + word(0)));
  if (block === 0) return null;
  return {
    block,
    timestamp: Number(BigInt("0x" + word(1))),
    submitter: "0x" + word(2).slice(24),
    size: Number(BigInt("0x" + word(3))),
  };
}

export function rpcClient(url, fetcher = globalThis.fetch) {
  let id = 0;
  return async (method, params) => {
    const response = await fetcher(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
    });
    const body = await response.json();
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  };
}

// Why the node is not the trusted chain (null: it is).
export async function chainProblem(rpc, trust) {
  const chainId = Number(BigInt(await rpc("eth_chainId", [])));
  if (trust.chain_id != null && chainId !== Number(trust.chain_id)) {
    return { code: "chain", detail: `${chainId} ≠ ${trust.chain_id}` };
  }
  if (trust.genesis_hash) {
    const genesis = await rpc("eth_getBlockByNumber", ["0x0", false]);
    if (!genesis || genesis.hash.toLowerCase() !== trust.genesis_hash.toLowerCase()) {
      return { code: "genesis", detail: genesis ? genesis.hash : "" };
    }
  }
  if (trust.owner) {
    const word = String(await rpc("eth_call", [{ to: trust.registry, data: OWNER }, "latest"]));
    const owner = "0x" + word.replace(/^0x/, "").slice(24, 64);
    if (owner.toLowerCase() !== trust.owner.toLowerCase()) return { code: "owner", detail: owner };
  }
  return null;
}

// Whether an anchor by `submitter` in `block` counts (ledger.verify TrustAnchors.accepts):
// an accepted submitter, not revoked before that block.
export function accepts(trust, submitter, block) {
  const who = submitter.toLowerCase();
  if (!(trust.submitters || []).some((s) => s.toLowerCase() === who)) return false;
  const revoked = Object.entries(trust.revoked || {}).find(([a]) => a.toLowerCase() === who);
  return !revoked || block <= Number(revoked[1]);
}

async function readAnchor(rpc, registry, root) {
  const data = GET_ANCHOR + root.replace(/^0x/, "").padStart(64, "0");
  return decodeAnchor(await rpc("eth_call", [{ to: registry, data }, "latest"]));
}

// One event's result: {id, type, status, cause, detail}; status as ledger.verify names it.
async function checkEvent(event, expectedPrev, anchors, trust) {
  const content = event.content || {};
  const out = { id: String(content.id ?? "?"), type: String(content.type ?? "") };
  let digest;
  try {
    digest = await digestHex(content);
  } catch (e) {
    return { ...out, status: "tampered", cause: "unhashable", detail: e.message };
  }
  if (digest !== event.digest) return { ...out, status: "tampered", cause: "digest" };
  if ((content.prev ?? null) !== expectedPrev) return { ...out, status: "broken_chain", cause: "prev" };
  const anchor = event.anchor;
  if (!anchor) return { ...out, status: "pending", cause: "pending" };
  const record = anchors.get(anchor.root);
  if (!record) return { ...out, status: "missing_on_chain", cause: "root", detail: anchor.root };
  if (!accepts(trust, record.submitter, record.block)) {
    return { ...out, status: "untrusted", cause: "submitter", detail: record.submitter };
  }
  let ok = false;
  try {
    ok = await verifyInclusion(unhex(digest), Number(anchor.leaf_index), record.size,
      (anchor.proof || []).map(unhex), unhex(anchor.root));
  } catch { ok = false; }
  if (!ok) return { ...out, status: "tampered", cause: "proof" };
  return { ...out, status: "verified", block: record.block, timestamp: record.timestamp };
}

// Every event of the bundle, in order; throws {code} when the chain or bundle is refused.
export async function verifyBundle(bundle, trust, rpc) {
  const chain = bundle.chain || {};
  if (chain.contract && chain.contract.toLowerCase() !== trust.registry.toLowerCase()) {
    throw Object.assign(new Error("registry"), { code: "registry" });
  }
  const problem = await chainProblem(rpc, trust);
  if (problem) throw Object.assign(new Error(problem.detail), problem);
  const anchors = new Map();
  for (const event of bundle.events || []) {
    const root = event.anchor && event.anchor.root;
    if (root && !anchors.has(root)) {
      try { anchors.set(root, await readAnchor(rpc, trust.registry, root)); } catch { anchors.set(root, null); }
    }
  }
  const results = [];
  let prev = null;
  for (const event of bundle.events || []) {
    results.push(await checkEvent(event, prev, anchors, trust));
    prev = event.digest;
  }
  return results;
}
