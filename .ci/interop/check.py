#!/usr/bin/env python3
"""Runs `entra-sim conformance --mode both --json` against the servers start.sh started and
compares every (test, mode) verdict with expected.json; then checks that no server holds an
object named with the run's prefix (the run cleaned up after itself), that the --junit file
written alongside has a testcase per verdict, and that the token appears in no output.

    .ci/interop/check.sh                 check (what .ci/run does)
    .ci/interop/check.sh --update        rewrite expected.json's verdicts from a run, keep reasons
    python3 .ci/interop/check.py --table print expected.json as the README's Markdown table

Run under start.sh, which sets SCIM2_URL, SCIM2_TOKEN_FILE, SCIMMY_URL and SCIMMY_TOKEN_FILE.
Every verdict other than PASSED needs a one-line reason in expected.json: `--update` gives a new
one an empty reason, and the check fails until someone writes it. Python standard library only.
Tokens are read from their files and never printed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

REPO = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).resolve().parent / "expected.json"
# Server name in expected.json: the variables start.sh sets for it.
SERVERS = {
    "scim2-server": ("SCIM2_URL", "SCIM2_TOKEN_FILE"),
    "scimmy": ("SCIMMY_URL", "SCIMMY_TOKEN_FILE"),
}
VERDICTS = ("PASSED", "FAILED", "WARNING", "SKIPPED")
PAGE = 100


def main():
    args = arguments()
    if args.table:
        print(table(load(args.expected)))
        return 0
    expected = load(args.expected) if args.expected.exists() else {"servers": {}}
    problems = []
    for name, (url_var, token_var) in SERVERS.items():
        url, token_file = os.environ.get(url_var), os.environ.get(token_var)
        if not url or not token_file:
            sys.exit(f"check.py: {url_var} and {token_var} are not set; run me under start.sh")
        started = time.monotonic()
        doc = conformance(args.binary, url, token_file)
        observed = verdicts(doc)
        print(f"{name}: {len(observed)} verdicts in {time.monotonic() - started:.1f} s"
              f" (run prefix {doc['runPrefix']}, overallResult {doc['overallResult']})")
        server_problems = leftovers(name, url, token_file, doc)
        entry = expected["servers"].get(name, {})
        if args.update:
            report(name, [f"updated: {line}" for line in compare(entry, doc, observed)])
            entry = updated(entry, doc, observed)
            expected["servers"][name] = entry
        server_problems += compare(entry, doc, observed)
        report(name, server_problems)
        problems += server_problems
    if args.update:
        save(args.expected, expected)
        print(f"wrote {args.expected.relative_to(REPO)}")
    if problems:
        print(f"interop: {len(problems)} problem(s), listed above: ~ a verdict differs, + a "
              "test expected.json lacks, - a test the run lacks, ! a reason missing or an "
              "object left on a server. Verdicts changed on purpose? Run .ci/interop/check.sh "
              "--update, then write a reason for each entry marked !.")
        return 1
    print("interop: every verdict as expected.json says, nothing left on the servers")
    return 0


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, default=REPO / "target/debug/entra-sim")
    parser.add_argument("--expected", type=Path, default=EXPECTED)
    parser.add_argument("--update", action="store_true",
                        help="rewrite the verdicts from this run, keeping the reasons")
    parser.add_argument("--table", action="store_true",
                        help="print expected.json as a Markdown table; runs nothing")
    return parser.parse_args()


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(path, expected):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")


def conformance(binary, url, token_file):
    """The run's --json document; exit 0 (Succeeded) and 1 (Failed) are both verdicts. The
    --junit file written beside it must hold a testcase per (test, mode), and neither it nor the
    output may contain the token."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "results.xml"
        command = [str(binary), "conformance", "--mode", "both", "--json", "--junit", str(junit),
                   "--url", url, "--token-file", token_file]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode not in (0, 1):
            sys.exit(f"check.py: conformance --url {url} exited {done.returncode}:\n"
                     f"{done.stderr}")
        xml = junit.read_text(encoding="utf-8") if junit.exists() else ""
    token = Path(token_file).read_text(encoding="utf-8").strip()
    if any(token in text for text in (done.stdout, done.stderr, xml)):
        sys.exit(f"check.py: the token appears in the output or the JUnit file of --url {url}")
    doc = json.loads(done.stdout)
    succeeded = doc["overallResult"] == "Succeeded"
    if succeeded != (done.returncode == 0):
        sys.exit(f"check.py: overallResult {doc['overallResult']} but exit {done.returncode}")
    cases = len(list(ElementTree.fromstring(xml).iter("testcase"))) if xml else 0
    if cases != len(doc["tests"]):
        sys.exit(f"check.py: the JUnit file has {cases} testcases, the JSON {len(doc['tests'])}")
    return doc


def verdicts(doc):
    """{(test, mode): record}; a (test, mode) twice is a bug of the run."""
    observed = {}
    for record in doc["tests"]:
        key = (record["testName"], record["mode"])
        if key in observed:
            sys.exit(f"check.py: {key[0]} ({key[1]}) appears twice in the run")
        observed[key] = record
    return observed


def expected_verdicts(entry):
    """{(test, mode): {"verdict", "reason"?}} from one server's entry of expected.json."""
    return {(test, mode): want
            for test, modes in entry.get("tests", {}).items()
            for mode, want in modes.items()}


def compare(entry, doc, observed):
    """One line per difference between the run and expected.json, and per missing reason."""
    problems = []
    if entry.get("overallResult") != doc["overallResult"]:
        problems.append(f"~ overallResult: expected {entry.get('overallResult')}, "
                        f"observed {doc['overallResult']}")
    expected = expected_verdicts(entry)
    for key in list(observed) + [k for k in expected if k not in observed]:
        test, mode = key
        want, got = expected.get(key), observed.get(key)
        where = f"{test} ({mode})"
        if want is None:
            problems.append(f"+ {where}: {got['testResult']} in the run, not in expected.json"
                            f"{details(got)}")
        elif got is None:
            problems.append(f"- {where}: expected {want['verdict']}, not in the run")
        elif want["verdict"] != got["testResult"]:
            problems.append(f"~ {where}: expected {want['verdict']}, observed "
                            f"{got['testResult']}{details(got)}")
        if want is not None:
            problems += entry_problems(where, want)
    return problems


def entry_problems(where, want):
    if want.get("verdict") not in VERDICTS:
        return [f"! {where}: verdict {want.get('verdict')!r} is none of {', '.join(VERDICTS)}"]
    if want["verdict"] != "PASSED" and not want.get("reason", "").strip():
        return [f"! {where}: {want['verdict']} has no reason in expected.json; write one"]
    return []


def details(record):
    text = " ".join(record.get("details", "").split())
    return f"\n      the run says: {text[:300]}" if text else ""


def updated(entry, doc, observed):
    """The server's entry with this run's verdicts; a kept verdict keeps its reason, a new
    non-PASSED one gets an empty reason (which the check refuses until it is written)."""
    old = expected_verdicts(entry)
    tests = {}
    for (test, mode), record in observed.items():
        verdict = record["testResult"]
        want = {"verdict": verdict}
        if verdict != "PASSED":
            want["reason"] = old.get((test, mode), {}).get("reason", "")
        tests.setdefault(test, {})[mode] = want
    return {"server": entry.get("server", ""), "overallResult": doc["overallResult"],
            "tests": tests}


def leftovers(name, url, token_file, doc):
    """Objects the run left: named in a record's leftBehind, or found on the server carrying
    the run's prefix (in any attribute: userName, displayName, externalId)."""
    prefix = doc["runPrefix"]
    problems = [f"! left behind by {r['testName']} ({r['mode']}): {path}"
                for r in doc["tests"] for path in r.get("leftBehind", [])]
    token = Path(token_file).read_text(encoding="utf-8").strip()
    for kind in ("Users", "Groups"):
        for resource in listing(url, token, kind):
            if prefix in json.dumps(resource):
                label = resource.get("userName") or resource.get("displayName")
                problems.append(f"! {name} still holds {kind}/{resource.get('id')} ({label}) "
                                f"after the run")
    return problems


def listing(url, token, kind):
    """Every resource of GET {url}/{kind}, page by page."""
    start = 1
    while True:
        query = urllib.parse.urlencode({"startIndex": start, "count": PAGE})
        request = urllib.request.Request(f"{url}/{kind}?{query}", headers={
            "Authorization": f"Bearer {token}", "Accept": "application/scim+json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.load(response)
        resources = page.get("Resources", [])
        yield from resources
        start += len(resources)
        if not resources or start > int(page.get("totalResults", 0)):
            return


def report(name, problems):
    for line in problems:
        print(f"  {name}: {line}")


def table(expected):
    """The README's table: a row per test, a column per server and mode, reasons below."""
    servers = expected["servers"]
    modes = ("default", "aadOptscim062020")
    columns = [(s, m) for s in servers for m in modes]
    tests = list(dict.fromkeys(t for s in servers.values() for t in s["tests"]))
    reasons, lines = [], []
    lines.append("| Test | " + " | ".join(f"{s} {m}" for s, m in columns) + " |")
    lines.append("|---" * (len(columns) + 1) + "|")
    for test in tests:
        cells = []
        for server, mode in columns:
            want = servers[server]["tests"].get(test, {}).get(mode)
            if want is None:
                cells.append("—")
                continue
            cell = want["verdict"]
            if want["verdict"] != "PASSED":
                reason = f"{server}: {want.get('reason', '')}"
                if reason not in reasons:
                    reasons.append(reason)
                cell += f" [{reasons.index(reason) + 1}]"
            cells.append(cell)
        lines.append(f"| {test} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"{i}. {reason}" for i, reason in enumerate(reasons, 1)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
