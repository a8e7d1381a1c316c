// Verifies, in the browser, that a log entry is included in the tree whose
// root the latest checkpoint signs (RFC 6962 hashing, tlog's proof order).
// SHA-256 is implemented here so the check also works on plain HTTP on a
// polling-place network, where WebCrypto is unavailable.
(function () {
  "use strict";
  var K = new Uint32Array([
    0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,
    0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,
    0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
    0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
    0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,
    0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
    0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,
    0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2]);
  function sha256(msg) {
    var h = new Uint32Array([0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19]);
    var l = msg.length, n = ((l + 9 + 63) >> 6) << 6, m = new Uint8Array(n);
    m.set(msg); m[l] = 0x80;
    var bits = l * 8, dv = new DataView(m.buffer);
    dv.setUint32(n - 4, bits >>> 0); dv.setUint32(n - 8, Math.floor(bits / 4294967296));
    var w = new Uint32Array(64);
    for (var off = 0; off < n; off += 64) {
      for (var i = 0; i < 16; i++) w[i] = dv.getUint32(off + i * 4);
      for (i = 16; i < 64; i++) {
        var a = w[i-15], b = w[i-2];
        var s0 = ((a>>>7)|(a<<25)) ^ ((a>>>18)|(a<<14)) ^ (a>>>3);
        var s1 = ((b>>>17)|(b<<15)) ^ ((b>>>19)|(b<<13)) ^ (b>>>10);
        w[i] = (w[i-16] + s0 + w[i-7] + s1) | 0;
      }
      var A=h[0],B=h[1],C=h[2],D=h[3],E=h[4],F=h[5],G=h[6],H=h[7];
      for (i = 0; i < 64; i++) {
        var S1 = ((E>>>6)|(E<<26)) ^ ((E>>>11)|(E<<21)) ^ ((E>>>25)|(E<<7));
        var ch = (E & F) ^ (~E & G);
        var t1 = (H + S1 + ch + K[i] + w[i]) | 0;
        var S0 = ((A>>>2)|(A<<30)) ^ ((A>>>13)|(A<<19)) ^ ((A>>>22)|(A<<10));
        var mj = (A & B) ^ (A & C) ^ (B & C);
        var t2 = (S0 + mj) | 0;
        H=G; G=F; F=E; E=(D+t1)|0; D=C; C=B; B=A; A=(t1+t2)|0;
      }
      h[0]+=A; h[1]+=B; h[2]+=C; h[3]+=D; h[4]+=E; h[5]+=F; h[6]+=G; h[7]+=H;
    }
    var out = new Uint8Array(32), ov = new DataView(out.buffer);
    for (i = 0; i < 8; i++) ov.setUint32(i * 4, h[i]);
    return out;
  }
  function b64(s) { var b = atob(s), u = new Uint8Array(b.length); for (var i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return u; }
  function tob64(u) { var s = ""; for (var i = 0; i < u.length; i++) s += String.fromCharCode(u[i]); return btoa(s); }
  function cat(p, a, b) { var u = new Uint8Array(1 + a.length + (b ? b.length : 0)); u[0] = p; u.set(a, 1); if (b) u.set(b, 1 + a.length); return u; }
  function leafHash(data) { return sha256(cat(0, data)); }
  function nodeHash(l, r) { return sha256(cat(1, l, r)); }
  function maxpow2(n) { var k = 1; while (k * 2 < n) k *= 2; return k; }
  // tlog's runRecordProof: proof[last] is the sibling at the top.
  function run(p, lo, hi, n, leaf) {
    if (lo + 1 === hi) { if (p.length) throw new Error("proof too long"); return leaf; }
    if (!p.length) throw new Error("proof too short");
    var k = maxpow2(hi - lo), rest = p.slice(0, p.length - 1), top = p[p.length - 1];
    if (n < lo + k) return nodeHash(run(rest, lo, lo + k, n, leaf), top);
    return nodeHash(top, run(rest, lo + k, hi, n, leaf));
  }
  function checkpointRoot() {
    var lines = document.getElementById("checkpoint").textContent.split("\n");
    return { size: parseInt(lines[1], 10), root: lines[2] };
  }
  async function verify(seq, out) {
    var ck = checkpointRoot();
    if (seq > ck.size) { out.textContent = "Entry " + seq + " is newer than the checkpoint; reload the page."; return; }
    var entry = await (await fetch("/api/v1/log/entries/" + seq, { credentials: "same-origin" })).json();
    var proof = await (await fetch("/api/v1/log/proof/inclusion?seq=" + seq + "&size=" + ck.size)).json();
    var leaf, how;
    if (entry.raw) { leaf = leafHash(b64(entry.raw)); how = "hashed the entry's bytes here"; }
    else { leaf = b64(entry.leaf_hash); how = "used the recorded leaf hash"; }
    var root = run(proof.proof.map(b64), 0, ck.size, seq - 1, leaf);
    var ok = tob64(root) === ck.root;
    out.className = ok ? "ok" : "bad";
    out.textContent = ok
      ? "Entry " + seq + " is included in the signed checkpoint of size " + ck.size + " (" + how + "; root " + ck.root + ")."
      : "Entry " + seq + " does NOT match the signed checkpoint. Report this to the security officer.";
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button.verify");
    if (!b) return;
    var out = document.getElementById("proof-result");
    out.className = ""; out.textContent = "Verifying entry " + b.dataset.seq + "…";
    verify(parseInt(b.dataset.seq, 10), out).catch(function (err) { out.className = "bad"; out.textContent = "Could not verify: " + err.message; });
  });
})();
