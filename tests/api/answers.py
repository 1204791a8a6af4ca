"""Every success answer of the API against the schema its OpenAPI document
gives it, on a real `parley demo` (crates/cli/tests/api.rs starts it).

Schemathesis checks the answers to what it generates, which are seldom
successes of the writes (a notice needs volumes that parse, a confirmation a
talk that exists). This script is a client that makes every documented
success happen, as the parties' officers and the host's admin would, and
validates each answer with a JSON Schema 2020-12 validator (jsonschema_rs,
which schemathesis brings) against the document the server serves. It then
fails unless every documented success answer with a JSON body was seen, but
those listed in NOT_HERE with where they are exercised instead.

Usage: answers.py TOKENS_FILE (the demo's `--tokens-file`).
"""

import base64
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request

import jsonschema_rs

# Success answers this script cannot bring about on a demo, and why.
NOT_HERE = {
    ("post", "/v1/parties/{party}/keys/revocations", "201"):
        "needs a request signed by a key the party holds (crates/cli/tests/signatures.rs)",
    ("post", "/v1/record/checkpoint/witnessed", "200"):
        "needs witnesses (parley serve --witness; crates/cli/tests/witness.rs)",
    ("post", "/v1/federation/deliveries", "200"):
        "needs a peer node's signed log (crates/cli/tests/federation.rs)",
}

# An Ed25519 public key (RFC 8032, test 1): a valid point, nothing signs with it here.
PUBLIC_KEY = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


class Api:
    def __init__(self, url):
        self.url = url
        self.document = self.raw("get", "/v1/openapi.json", None)[1]
        self.seen = set()
        self.failures = []

    def raw(self, method, path, token, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method.upper())
        if token:
            request.add_header("Authorization", "Bearer " + token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def call(self, method, template, token, body=None, query="", **params):
        """The answer to `method template` (its parameters filled in), which
        must be a success and satisfy the schema documented for its status."""
        path = template.format(**params) + query
        status, answer = self.raw(method, path, token, body)
        where = f"{method.upper()} {path}"
        if not 200 <= status < 300:
            raise SystemExit(f"{where}: {status} {json.dumps(answer)}")
        responses = self.document["paths"][template][method]["responses"]
        response = responses.get(str(status))
        if response is None:
            self.failures.append(f"{where}: status {status} is not documented")
            return answer
        schema = response["content"]["application/json"]["schema"]
        # The document is the root, so that its `#/components/...` resolve.
        root = {"components": self.document["components"], "allOf": [schema]}
        errors = list(jsonschema_rs.Draft202012Validator(root).iter_errors(answer))
        for e in errors[:5]:
            self.failures.append(
                f"{where} {status}: {e.message} at {list(e.instance_path)}\n  {json.dumps(answer)[:2000]}"
            )
        self.seen.add((method, template, str(status)))
        return answer

    def documented(self):
        """Every (method, path, status) of a success answered with JSON."""
        out = set()
        for path, item in self.document["paths"].items():
            for method, operation in item.items():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {}) if isinstance(response, dict) else {}
                    if status.startswith("2") and "application/json" in content:
                        out.add((method, path, status))
        return out


def verifier_key(name, public):
    """A C2SP signed-note verifier key line: name+keyid+base64(0x01 || key)."""
    typed = b"\x01" + public
    key_id = hashlib.sha256(name.encode() + b"\n" + typed).digest()[:4]
    return f"{name}+{key_id.hex()}+{base64.b64encode(typed).decode()}"


def main():
    tokens = json.load(open(sys.argv[1]))
    api = Api(tokens["url"])
    host = tokens["host"]
    officer = {o["party"]: o["token"] for o in tokens["officers"]}
    blue, red = officer["blue"], officer["red"]

    # Service.
    api.call("get", "/v1/health", None)
    api.call("get", "/v1/openapi.json", None)
    api.call("get", "/v1/me", blue)

    # Parties, operators, settings, certificates, keys.
    api.call("get", "/v1/parties", blue)
    api.call("post", "/v1/parties", host, {"id": "purple", "name": "Purple"})
    admin = api.call("post", "/v1/parties/{party}/operators", host,
                     {"name": "Purple admin", "role": "admin"}, party="purple")
    purple = admin["token"]
    spare = api.call("post", "/v1/parties/{party}/operators", purple,
                     {"name": "spare", "role": "observer"}, party="purple")
    api.call("get", "/v1/parties/{party}/operators", purple, party="purple")
    api.call("post", "/v1/operators/{operator}/revoke", purple, {}, operator=spare["id"])
    api.call("post", "/v1/parties/{party}/settings", purple,
             {"host_may_add_operators": False}, party="purple")
    api.call("post", "/v1/parties/{party}/keys", purple,
             {"key": verifier_key("purple", PUBLIC_KEY)}, party="purple")
    api.call("get", "/v1/parties/{party}/keys", blue, party="purple")
    # Last of Purple's own requests: from now on it is served over mutual TLS only.
    api.call("post", "/v1/parties/{party}/certificates", purple,
             {"spki_sha256": "ab" * 32}, party="purple")
    api.call("get", "/v1/parties/{party}/certificates", blue, party="purple")

    # Lines, their status and their checks (every 10 s on this one).
    api.call("post", "/v1/lines", host, {"id": "purple-blue", "name": "Purple and Blue",
             "parties": ["blue", "purple"], "rules": {"line_check_interval_s": 10}})
    api.call("get", "/v1/lines", blue)
    api.call("post", "/v1/lines/{line}/status", host, {"status": "suspended"}, line="purple-blue")
    api.call("get", "/v1/deadlines", blue)
    deadline = time.monotonic() + 30
    while True:
        line = api.call("get", "/v1/lines/{line}", blue, line="purple-blue")
        pending = [p["pending"] for p in line["operation"]["parties"]
                   if p["party"] == "blue" and p["pending"]]
        if pending:
            break
        if time.monotonic() > deadline:
            raise SystemExit("no line check was sent to blue on purple-blue within 30 s")
        time.sleep(0.2)
    api.call("post", "/v1/line-checks/{check}/answer", blue, {}, check=pending[0]["check"])

    # Messages.
    api.call("post", "/v1/lines/{line}/messages", blue, {"text": "radio check"}, line="syria-air")
    api.call("get", "/v1/lines/{line}/messages", blue, line="syria-air")

    # Activities: a notice where Red's is, so that it conflicts, as a dry run
    # and for real; an amendment, acknowledgments, a cancellation.
    theirs = [a for a in api.call("get", "/v1/activities", blue)["activities"]
              if a["party"] == "red"]
    red_notice = api.call("get", "/v1/activities/{activity}", blue, activity=theirs[0]["id"])
    volumes = red_notice["current"]["content"]["volumes"]
    notice = {"category": "air", "point_of_contact": "ops", "volumes": volumes}
    read = api.call("post", "/v1/positions", blue, {"positions": ["35°30'15\"N 038°30'E", "37SDV909007", {"lat": 35.5, "lng": 38.5}, "thirty north"]})
    if [("error" in p) for p in read["positions"]] != [False, False, False, True]:
        api.failures.append(f"POST /v1/positions: each position read, or why not: {read}")
    api.call("post", "/v1/lines/{line}/notices", blue, dict(notice, dry_run=True), line="syria-air")
    made = api.call("post", "/v1/lines/{line}/notices", blue, notice, line="syria-air")
    if not made["conflicts"]:
        api.failures.append("the notice over Red's met no conflict: the conflict schemas went unchecked")
    activity = made["activity"]
    amended = api.call("post", "/v1/activities/{activity}/amendments", blue,
                       dict(notice, replaces_version=1), activity=activity)
    ack = {"version": amended["version"], "content_sha256": amended["content_sha256"]}
    api.call("post", "/v1/activities/{activity}/acknowledgments", red, ack, activity=activity)
    api.call("post", "/v1/activities/{activity}/acknowledgments", red, ack, activity=activity)
    shown = api.call("get", "/v1/activities/{activity}", blue, activity=activity)
    api.call("get", "/v1/activities", blue, query="?line=syria-air")
    api.call("post", "/v1/activities/{activity}/cancellation", blue,
             {"replaces_version": amended["version"]}, activity=activity)

    # Conflicts.
    conflicts = api.call("get", "/v1/conflicts", blue)["conflicts"]
    open_ = [c for c in conflicts if c["state"] == "open"]
    api.call("post", "/v1/conflicts/{conflict}/coordination", blue,
             {"note": "we climb to FL250"}, conflict=open_[0]["id"])

    # Sites.
    site = api.call("post", "/v1/sites", blue, {
        "name": "Field hospital", "kind": "static", "volumes": volumes[:1],
        "expires": red_notice["current"]["content"]["volumes"][0]["time_end"]["value"],
        "shared_with_lines": ["syria-air"]})
    api.call("get", "/v1/sites", blue)
    api.call("post", "/v1/sites/{site}/withdrawal", blue, {}, site=site["id"])

    # Talks: recorded by Blue, Red's own version, Blue confirms Red's, Red
    # closes the follow-up it owes.
    talk = shown_talk = api.call("get", "/v1/talks", blue)["talks"][0]
    record = api.call("get", "/v1/talks/{talk}", blue, talk=talk["id"])["record"]
    record = dict(record, date=record["date"], level="working level")
    made = api.call("post", "/v1/talks", blue, record)
    theirs = dict(record, level="working level, minuted by Red")
    version = api.call("post", "/v1/talks/{talk}/versions", red, theirs, talk=made["talk"])
    api.call("post", "/v1/talks/{talk}/confirmation", blue,
             {"version": version["version"], "content_sha256": version["content_sha256"]},
             talk=made["talk"])
    api.call("post", "/v1/talks/{talk}/follow-ups/{follow_up}/closure", red,
             {"note": "sent"}, talk=made["talk"], follow_up=1)
    api.call("get", "/v1/talks/{talk}", blue, talk=made["talk"])
    api.call("get", "/v1/talks", blue)
    api.call("get", "/v1/talks/relations", blue)
    del shown_talk

    # The record.
    head = api.call("get", "/v1/record/checkpoint", blue)
    api.call("get", "/v1/record/consistency", blue, query=f"?from=1&to={head['size']}")
    api.call("get", "/v1/record/entries/{seq}/receipt", blue,
             seq=shown["versions"][0]["journal_seq"])

    # Federation, last: a peer (that need not answer) makes every later write
    # try to deliver.
    api.call("post", "/v1/federation/peers", host, {
        "node": "crimson-node", "url": "http://127.0.0.1:9",
        "node_key": verifier_key("crimson-node", PUBLIC_KEY), "parties": ["crimson"]})
    api.call("get", "/v1/federation", host)
    # A line naming the peer's party is federated: its log here has the
    # line's creation (the peer is never reached).
    api.call("post", "/v1/lines", host, {"id": "crimson-blue", "name": "Crimson and Blue",
                                         "parties": ["blue", "crimson"]})
    api.call("get", "/v1/federation/lines/{line}/logs", host, line="crimson-blue")

    missing = api.documented() - api.seen - set(NOT_HERE)
    for m in sorted(missing):
        api.failures.append(f"no answer seen for {m[0].upper()} {m[1]} {m[2]}")
    if api.failures:
        print("\n".join(api.failures))
        sys.exit(1)
    print(f"{len(api.seen)} success answers checked against their schemas")


main()
