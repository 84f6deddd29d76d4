#!/usr/bin/env python3
"""Mass delete against the built-in target: N users, one group holding all of them, then every
user deleted (each DELETE takes the user out of the group). Prints the time the deletes took.

    python3 scripts/target-mass-delete.py target/release/entra-sim 30000

Used for the target's member removal figures in BENCHMARKS.md; needs only Python 3.
"""
import http.client, json, subprocess, sys, time
binary, n = sys.argv[1], int(sys.argv[2])
p = subprocess.Popen([binary, "target", "serve", "--port", "47199", "--token", "t", "--max-recorded", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
p.stdout.readline(); time.sleep(0.3)
c = http.client.HTTPConnection("127.0.0.1", 47199)
H = {"Authorization": "Bearer t", "Content-Type": "application/scim+json"}
def req(m, path, body=None):
    c.request(m, "/scim/v2" + path, body=json.dumps(body) if body is not None else None, headers=H)
    r = c.getresponse(); data = r.read()
    assert r.status < 300, (m, path, r.status, data[:200])
    return json.loads(data) if data else None
ids = []
for i in range(n):
    ids.append(req("POST", "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"u{i}@x.com", "active": True})["id"])
g = req("POST", "/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "all", "members": []})["id"]
for k in range(0, n, 1000):
    req("PATCH", f"/Groups/{g}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Add", "path": "members", "value": [{"value": v} for v in ids[k:k+1000]]}]})
t0 = time.time()
for v in ids:
    req("DELETE", f"/Users/{v}")
t1 = time.time()
left = req("GET", f"/Groups/{g}")
print(f"{binary.split('/')[-1]}: {n} deletes in {t1-t0:.2f} s; members left {len(left.get('members', []))}")
p.terminate()
