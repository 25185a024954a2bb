#!/usr/bin/env python3
"""Generate a synthetic batch of candidacies for benchmarks and load tests.

  python3 gen_corpus.py OUT_DIR [N] [SEED]

Writes OUT_DIR/registry.json (referenced and in-progress solutions) and
OUT_DIR/candidacies.ndjson (N candidacies, one JSON object a line, each
{"candidacy": {...}}), in the formats of ../spec/facts.md, over the dispositifs
and profiles of ../data/segur-v2/. The mix covers heritage, equivalence between
and within dispositifs, new components, several names, version and deadline
problems, so every rule family is exercised. Deterministic for a given SEED."""
import csv, json, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "policies", "segur-v2", "data")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)

disp = list(csv.DictReader(open(os.path.join(DATA, "dispositifs.csv"), encoding="utf-8")))
va2 = [d for d in disp if d["vague"] == "2"]
va1 = [d for d in disp if d["vague"] == "1"]
chapters = {}
for r in csv.DictReader(open(os.path.join(DATA, "exigences-va2.csv"), encoding="utf-8")):
    chapters.setdefault(r["dispositif"], set()).add(r["chapitre"])
refs = {}
for r in csv.DictReader(open(os.path.join(DATA, "referentiels.csv"), encoding="utf-8")):
    refs.setdefault(r["dispositif"], {})[r["referentiel"]] = r["version"]


def ver(major):
    return f"{major}.{rng.randint(0, 9)}.{rng.randint(0, 20)}"


def component(name, pub, major, chap=None):
    c = {"name": name, "publisher": pub, "version": ver(major)}
    if chap:
        c["impacted_chapters"] = chap
    return c


def profiles(d):
    ps = d["profils"].split()
    return sorted(rng.sample(ps, rng.randint(0, min(2, len(ps))))) if ps else []


# products: a main component shared by several solutions
products = []
for i in range(max(50, n // 20)):
    pub = f"Editeur {i:04d}"
    products.append({"main": f"Core{i:04d}", "publisher": pub, "major": rng.randint(1, 12),
                     "proxy": f"Proxy{i:04d}" if rng.random() < 0.7 else None})

solutions, nru_seq = [], 0


def solution_for(p, d, extra_new=False):
    s = {"main_component": component(p["main"], p["publisher"], p["major"])}
    if p["proxy"]:
        s["proxy"] = component(p["proxy"], p["publisher"], 1)
        s["proxy"]["version"] = "1.2.0"
    adds = []
    if rng.random() < 0.5:
        ch = sorted(rng.sample(sorted(chapters[d["dispositif"]]), 1)) if d["dispositif"] in chapters else None
        adds.append(component(f"Add{p['main']}", "Tiers SAS", 2, ch))
    if extra_new:
        ch = sorted(rng.sample(sorted(chapters[d["dispositif"]]), 2)) if d["dispositif"] in chapters else None
        adds.append(component(f"New{rng.randint(0, 999):03d}", "Autre SARL", 1, ch))
    if adds:
        s["additional_components"] = adds
    return s


def names(base, count, version):
    return [{"name": f"{base}-{k}", "technical_version": version, "nil": f"NIL-{rng.randint(2020, 2026)}-{rng.randint(0, 99999):05d}"}
            for k in range(count)]


for p in products:
    for d in rng.sample(va1, rng.randint(0, 2)):
        nru_seq += 1
        s = solution_for(p, d)
        s["main_component"]["version"] = f"{max(1, p['major'] - 1)}.{rng.randint(0, 9)}"
        s.pop("proxy", None)
        s["commercial_names"] = names(p["main"], 1, s["main_component"]["version"])
        solutions.append({"nru": f"NRU-2023-{d['dispositif']}-{nru_seq:05d}", "wave": 1, "dispositif": d["dispositif"],
                          "status": "referenced", "referenced_on": "2023-06-01", "profiles": profiles(d), "solution": s})
    for d in rng.sample(va2, rng.randint(1, 2)):
        nru_seq += 1
        s = solution_for(p, d)
        s["commercial_names"] = names(p["main"], rng.randint(1, 2), s["main_component"]["version"])
        st = "referenced" if rng.random() < 0.85 else "in_progress"
        e = {"nru": f"NRU-2025-{d['dispositif']}-{nru_seq:05d}", "wave": 2, "dispositif": d["dispositif"], "status": st,
             "profiles": profiles(d), "solution": s,
             "cnda_requests": [{"nil": x["nil"], "software_version": x["technical_version"], "referentials": refs.get(d["dispositif"], {})}
                               for x in s["commercial_names"]]}
        if st == "referenced":
            e["referenced_on"] = "2025-10-01"
        solutions.append(e)

by_main = {}
for s in solutions:
    by_main.setdefault(s["solution"]["main_component"]["name"], []).append(s)

with open(os.path.join(out, "candidacies.ndjson"), "w", encoding="utf-8") as f:
    for i in range(n):
        p = rng.choice(products)
        d = rng.choice(va2)
        mine = by_main.get(p["main"], [])
        s = solution_for(p, d, extra_new=rng.random() < 0.25)
        s["main_component"]["version"] = f"{p['major'] + (1 if rng.random() < 0.9 else -1)}.{rng.randint(0, 9)}.0"
        nm = names(p["main"] + "X", rng.choice([1, 1, 1, 2, 3]), s["main_component"]["version"])
        if rng.random() < 0.03:
            nm[0].pop("nil")
        s["commercial_names"] = nm
        c = {"id": f"CAND-{i:06d}", "wave": 2, "dispositif": d["dispositif"], "profiles": profiles(d),
             "filed_on": "2026-02-01", "solution": s}
        roots = [x for x in mine if x["wave"] == 2]
        her = [x for x in mine if x["wave"] == 1 and (x["dispositif"] == d["dispositif"] or (d["dispositif"] == "MS" and x["dispositif"] in ("MS1", "MS2")))]
        if roots and rng.random() < 0.8:
            c["root_nru"] = rng.choice(roots)["nru"]
            c["root_declared_on"] = "2026-03-01" if rng.random() < 0.95 else "2026-12-01"
        if her and rng.random() < 0.8:
            c["heritage_nrus"] = [x["nru"] for x in her]
        if len(nm) > 1 or "root_nru" in c:
            c["attestation_sur_honneur"] = {"signed": rng.random() < 0.95, "names": [x["name"] for x in nm],
                                            "new_components": [a["name"] for a in s.get("additional_components", []) if a["name"].startswith("New")]}
        if s.get("proxy"):
            c["psc"] = {"habilitation": rng.choice(["separate", "monobloc", "lps_only", "proxy_only"]),
                        "editeur_lps_nru": f"PSC-ELU-{i:06d}", "attestation_names": [x["name"] for x in nm],
                        "attestation_nils": [x.get("nil", "") for x in nm],
                        "pentest_report": {"names": [x["name"] for x in nm], "technical_versions": [s["main_component"]["version"]]}}
        c["cnda_requests"] = [{"nil": x["nil"], "software_version": x["technical_version"], "referentials": refs.get(d["dispositif"], {})}
                              for x in nm if "nil" in x and rng.random() < 0.9]
        f.write(json.dumps({"candidacy": c}, ensure_ascii=False) + "\n")

with open(os.path.join(out, "registry.json"), "w", encoding="utf-8") as f:
    json.dump({"solutions": solutions}, f, ensure_ascii=False)
print(f"{n} candidacies, {len(solutions)} registry solutions in {out}")
