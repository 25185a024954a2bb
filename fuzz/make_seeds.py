#!/usr/bin/env python3
"""Regenerate fuzz/seeds/<target>/ from the repository's policies and test
cases (plus a few hand-written edge cases). Run from anywhere:

    python3 fuzz/make_seeds.py

The seeds are committed; scripts/fuzz.sh copies them into fuzz/corpus/
(ignored by git) before each run."""
import datetime, glob, json, os, shutil, sys

try:
    import yaml
except ImportError:
    sys.exit("make_seeds.py needs PyYAML (pip install pyyaml)")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEEDS = os.path.join(HERE, "seeds")
TARGETS = ["policy_parse", "policy_check", "facts_json", "facts_yaml",
           "facts_ndjson", "facts_typed", "version_order", "diag_json"]


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def plain(o):
    """YAML dates and the like as JSON strings."""
    if isinstance(o, (datetime.date, datetime.datetime)):
        return o.isoformat()
    raise TypeError(type(o))


for t in TARGETS:
    shutil.rmtree(os.path.join(SEEDS, t), ignore_errors=True)

# Policies: every shipped .regle file and the syntax-error fixtures.
regle = sorted(glob.glob(os.path.join(ROOT, "policies", "**", "*.regle"), recursive=True))
regle += sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "**", "*.regle"), recursive=True))
for p in regle:
    name = os.path.relpath(p, ROOT).replace(os.sep, "_")
    data = open(p, "rb").read()
    put("policy_parse", name, data)
    put("policy_check", name, data)
# The Ségur policy as one file, so `check` sees every declaration at once.
segur = sorted(glob.glob(os.path.join(ROOT, "policies", "segur-v2", "*.regle")))
whole = b"\n".join(open(p, "rb").read() for p in segur)
put("policy_parse", "segur-v2-whole.regle", whole)
put("policy_check", "segur-v2-whole.regle", whole)

# Facts: every test case and example, as YAML and as JSON.
facts = sorted(glob.glob(os.path.join(ROOT, "tests", "cases", "*.yaml")))
facts += sorted(glob.glob(os.path.join(ROOT, "examples", "**", "*.yaml"), recursive=True))
lines = []
for p in facts:
    name = os.path.relpath(p, ROOT).replace(os.sep, "_")
    raw = open(p, "rb").read()
    doc = yaml.safe_load(raw)
    js = json.dumps(doc, default=plain, ensure_ascii=False, indent=1)
    put("facts_yaml", name, raw)
    put("facts_json", name[:-5] + ".json", js)
    put("facts_typed", name, raw)
    put("facts_typed", name[:-5] + ".json", js)
    lines.append(json.dumps(doc, default=plain, ensure_ascii=False))
put("facts_ndjson", "cases.ndjson", "\n".join(lines) + "\n")
put("facts_ndjson", "crlf-blank.ndjson", "\ufeff" + "\r\n\r\n".join(lines[:2]) + "\r\n  \n{\"x\": [1, \n")

json_edges = {
    "escapes.json": r'{"a\u00e9": "\ud83d\ude00 \" \\ \/ \b\f\n\r\t", "n": [0, -0.0, 1e308, 12345678901234567890, 1.10]}',
    "lone-surrogate.json": r'["\ud83d", "\ude00x"]',
    "bom.json": "\ufeff{\"k\": null}",
    "dup.json": '{"a": 1, "\\u0061": 2}',
    "deep.json": "[" * 70 + "]" * 70,
    "empty.json": " \t\r\n",
    "trailing.json": '{"a": true} {"b": false}',
    "nonascii.json": '{"clé": "Ségur — ✓", "日本": ["é", "\u0000"]}',
}
for n, t in json_edges.items():
    put("facts_json", n, t)
    put("facts_ndjson", n[:-5] + ".ndjson", t.replace("\n", " ") + "\n" + t)

yaml_edges = {
    "anchors.yaml": "a: &x {k: [1, 2, &y 'three']}\nb: *x\nc: [*y, *y]\n",
    "bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
    "multi.yaml": "a: 1\n---\nb: 2\n",
    "scalars.yaml": "yes: on\nnum: 0755\nf: .inf\nn: ~\nd: 2026-02-30\ns: \"\\u00e9\\x41\"\nb: |\n  line é\n  two\nfo: >-\n  folded\n  text\n",
    "tags.yaml": "!!map {? !!str key : !custom value, [a]: b}\n",
    "nonascii.yaml": "clé: « Ségur »\n日本: [é, ✓]\n'quoted é': \"x\"\n",
    "dupkey.yaml": "a: 1\na: 2\n",
    "bom.yaml": "\ufeffk: v\n",
    "tabs.yaml": "a:\n\t- b\n",
}
for n, t in yaml_edges.items():
    put("facts_yaml", n, t)
    put("facts_typed", n, t)

versions = [
    "1.2.3\n1.2.3-rc.1\n1.2.3+build",
    "v5.1\n5.1.0\n5.01",
    "1.0.0-alpha\n1.0.0-alpha.1\n1.0.0-alpha.beta",
    "1.0.0-beta.2\n1.0.0-beta.11\n1.0.0-rc.1",
    "18446744073709551615.0\n18446744073709551616\n0",
    "2.9\n2.10\n10",
    "1.0.0-0\n1.0.0-a\n1.0.0--",
    "V1\n1.0.0+x-y\n1.0.0-x+y",
    " 1.0\n1..0\n1.0-",
]
for i, t in enumerate(versions):
    put("version_order", "v%02d" % i, t)

# diag_json reads its input through `arbitrary`: any bytes will do.
put("diag_json", "regle-snippet", open(segur[0], "rb").read()[:400])
put("diag_json", "controls", bytes(range(0, 64)) * 3)
put("diag_json", "utf8", "é✓日本\x1b[31m\r\n\t\x7f\u0085\u202e".encode("utf-8") * 4)
print("seeds written to", SEEDS)
