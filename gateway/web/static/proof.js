// Checks a transfer-log record's inclusion proof in the browser, with WebCrypto SHA-256, exactly as
// services/audit/merkle.py does (RFC 9162 §2.1): leaf = SHA-256(0x00 || canonical JSON of the record),
// node = SHA-256(0x01 || left || right); the root is compared with the one in the signed checkpoint.
"use strict";

// Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
function canonicalJson(value) {
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson(value[k])).join(",") + "}";
  }
  return JSON.stringify(value);
}

async function sha256(prefix, ...parts) {
  const size = 1 + parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(size);
  buf[0] = prefix;
  let at = 1;
  for (const p of parts) { buf.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toB64 = (b) => btoa(String.fromCharCode(...b));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// RFC 9162 §2.1.3.2, as merkle.verify_inclusion
async function rootFromProof(leaf, index, size, proof) {
  if (index < 0 || index >= size) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if ((fn & 1) || fn === sn) {
      r = await sha256(1, p, r);
      while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      r = await sha256(1, r, p);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 ? r : null;
}

async function check(data) {
  const leaf = await sha256(0, new TextEncoder().encode(canonicalJson(data.record)));
  const lines = data.note.split("\n");
  const noteSize = parseInt(lines[1], 10);
  const noteRoot = fromB64(lines[2]);
  const root = await rootFromProof(leaf, data.index, noteSize, data.proof.map(fromB64));
  return {
    leaf: toB64(leaf), leafMatches: toB64(leaf) === data.leaf_hash, size: noteSize,
    ok: noteSize === data.tree_size && root !== null && same(root, noteRoot), root: lines[2],
  };
}

function show(target, result, index) {
  target.replaceChildren();
  const box = document.createElement("div");
  box.className = "kern-alert " + (result.ok ? "kern-alert--success" : "kern-alert--danger");
  const body = document.createElement("div");
  body.className = "kern-alert__body";
  const p = document.createElement("p");
  p.className = "kern-body";
  p.id = "proof-verdict";
  p.textContent = result.ok
    ? `Nachweis geprüft: Eintrag ${index} ist im signierten Prüfpunkt der Größe ${result.size} enthalten.`
    : `Nachweis FEHLGESCHLAGEN: Eintrag ${index} führt nicht zur Wurzel des Prüfpunkts.`;
  const detail = document.createElement("p");
  detail.className = "kern-body kern-body--small hash";
  detail.textContent = `Blatt-Hash (im Browser berechnet): ${result.leaf}; Wurzel des Prüfpunkts: ${result.root}`;
  body.append(p, detail);
  box.append(body);
  target.append(box);
}

document.getElementById("check-proof").addEventListener("click", async () => {
  const data = JSON.parse(document.getElementById("proof-data").textContent);
  const target = document.getElementById("proof-result");
  try {
    show(target, await check(data), data.index);
  } catch (err) {
    show(target, { ok: false, leaf: "–", root: "–" }, data.index);
  }
});
