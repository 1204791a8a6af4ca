// The party's word from the console: an Ed25519 key made in this browser
// (WebCrypto, non-extractable: its private half never leaves the browser's
// key store), kept in IndexedDB, and registered through the party's key
// chain like any other (a party admin registers its key line). With a key,
// notices, amendments and acknowledgments go out with a signed
// `parley-statement/v2` (see the server's statement.rs): this record's
// origin, the line, this operator, the time, the action and the SHA-256 of
// the declared content in RFC 8785 canonical JSON.

const DB = "parley-signing";
const STORE = "keys";
const enc = new TextEncoder();

function store(mode, run) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction(STORE, mode);
      const req = run(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    };
  });
}

function b64(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function hex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** RFC 8785: members sorted by UTF-16 code units (JavaScript's own string
 * order), numbers and strings as JSON.stringify writes them. */
export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** The key of this browser for `who` (`party/operator`), or null. */
export async function loadKey(who) {
  return (await store("readonly", (s) => s.get(who))) || null;
}

/** Makes a non-extractable Ed25519 key named `name` for `who`, keeps it and
 * returns it: `{pair, name, id, line}`, `line` the verifier key line. */
export async function makeKey(who, name) {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const typed = new Uint8Array([1, ...pub]);
  const id = (await sha256(new Uint8Array([...enc.encode(`${name}\n`), ...typed]))).slice(0, 4);
  const key = { pair, name, id, line: `${name}+${hex(id)}+${b64(typed)}` };
  await store("readwrite", (s) => s.put(key, who));
  return key;
}

/** The statement of `claim` (`{scope, action, declared}`) by `operator` on
 * the record `origin`, now, signed with `key`: the request's headers. */
export async function signedHeaders(key, origin, operator, claim) {
  const content = hex(await sha256(enc.encode(canonical(claim.declared))));
  const time = BigInt(Date.now()) * 1000n;
  const statement = `parley-statement/v2\norigin ${origin}\n${claim.scope}\noperator ${operator}\ntime ${time}\naction ${claim.action}\ncontent ${content}\n`;
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.pair.privateKey, enc.encode(statement)));
  return {
    "Parley-Signature": `${key.name} ${b64(new Uint8Array([...key.id, ...sig]))}`,
    "Parley-Statement": b64(enc.encode(statement)),
  };
}

/** What a cancellation of notice `a` declares: its current content, less
 * what the server assigns, with the state "cancelled" (as `Claim::cancel`). */
export function cancelClaim(a) {
  const declared = { ...(a.current?.content || {}), state: "cancelled" };
  delete declared.activity;
  delete declared.version;
  return { scope: `line ${a.line}`, action: `cancel ${a.id} version ${a.version + 1}`, declared };
}

/** What a confirmation of `version` of talk `talk` by `party` declares. */
export function confirmClaim(talk, version, party) {
  return {
    scope: `talk ${talk}`,
    action: `confirm ${talk} version ${version.version}`,
    declared: { talk, version: version.version, party, content_sha256: version.content_sha256 },
  };
}

/** The signature headers of `claim` for the console's operator, or
 * undefined when this browser holds no key for it. */
export async function sign(state, claim) {
  if (!state.key) return undefined;
  if (!state.origin) {
    const cp = await state.api.get("/v1/record/checkpoint");
    state.origin = cp.checkpoint.split("\n")[0];
  }
  return signedHeaders(state.key, state.origin, state.me.operator, claim);
}

/** Shows this browser's key for the operator, or the button that makes one. */
export function renderKey(state, t) {
  const line = document.getElementById("key-line");
  const make = document.getElementById("key-make");
  make.hidden = !!state.key || !state.me;
  line.textContent = state.key ? t("key.line", { line: state.key.line }) : "";
  line.dataset.key = state.key ? state.key.line : "";
}

/** Makes and keeps this browser's key for the operator (named after its party). */
export async function makeOwnKey(state, t) {
  const who = `${state.me.party}/${state.me.operator}`;
  state.key = await makeKey(who, `${state.me.party}/console-${state.me.operator}`);
  renderKey(state, t);
}

/** Loads this browser's key for the operator, if it made one. */
export async function loadOwnKey(state, t) {
  state.key = await loadKey(`${state.me.party}/${state.me.operator}`);
  renderKey(state, t);
}
