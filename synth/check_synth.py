#!/usr/bin/env python3
"""Checks hearth-synth output against its truth file.

usage: check_synth.py DIR TRUTH N
Asserts: NHS numbers valid (apart from trust typos) and one per person; the
normalised (dob, sex, postcode) triple one per person; every row has a valid
route to its true person; truth lines match each file's rows; wards agree;
CRLF only in council, BOM only in charity. Prints coverage rates."""
import csv, io, re, sys, collections
out, truth = sys.argv[1], sys.argv[2]
FILES = [("trust", "ae_attendances"), ("council", "housing"),
         ("charity", "referrals"), ("university", "wellbeing_survey")]
WARDS = {"Abbey","Priory","Castle","Riverside","St Mary's","Northgate","Westfield","Kingsmead"}
SEX = {"M":"M","F":"F","male":"M","female":"F","Male":"M","Female":"F","1":"M","2":"F"}

def nhs_valid(d):
    if not re.fullmatch(r"\d{10}", d): return False
    s = sum(int(d[i]) * (10 - i) for i in range(9)); c = 11 - s % 11
    c = 0 if c == 11 else c
    return c != 10 and c == int(d[9])

def norm_dob(s):
    if re.fullmatch(r"\d{4}-\d\d-\d\d", s): return s
    m = re.fullmatch(r"(\d\d)/(\d\d)/(\d{4})", s)
    return f"{m[3]}-{m[2]}-{m[1]}" if m else None

truth_rows = collections.defaultdict(list)
with open(truth, newline="") as f:
    r = csv.reader(f); assert next(r) == ["node","dataset","record","person"]
    for node, ds, rec, person in r:
        truth_rows[(node, ds)].append((int(rec), int(person)))

nhs_of, person_of_nhs = {}, {}
dsp_of, person_of_dsp = {}, {}
ward_of = {}
stats = collections.Counter()
people_in = collections.defaultdict(set)
for node, ds in FILES:
    raw = open(f"{out}/{node}/{ds}.csv", "rb").read()
    if node == "charity": assert raw.startswith(b"\xef\xbb\xbf"); raw = raw[3:]
    else: assert not raw.startswith(b"\xef\xbb\xbf")
    if node == "council":
        assert raw.count(b"\r\n") == raw.count(b"\n"), "council must be CRLF"
    else:
        assert b"\r" not in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    t = truth_rows[(node, ds)]
    assert len(rows) == len(t), (node, len(rows), len(t))
    assert [rec for rec, _ in t] == list(range(1, len(rows) + 1))
    for row, (_, person) in zip(rows, t):
        people_in[node].add(person)
        stats[node, "rows"] += 1
        assert row["ward"] in WARDS
        assert ward_of.setdefault(person, row["ward"]) == row["ward"], "ward differs"
        nhs = re.sub(r"[ -]", "", row.get("nhs_number", ""))
        route = False
        if nhs:
            stats[node, "nhs_present"] += 1
            if nhs_valid(nhs):
                route = True
                assert nhs_of.setdefault(person, nhs) == nhs, "person has two NHS numbers"
                assert person_of_nhs.setdefault(nhs, person) == person, "NHS number shared"
            else:
                stats[node, "nhs_typo"] += 1
                assert node == "trust" and re.fullmatch(r"\d{10}", nhs)
        dob, sex = norm_dob(row["date_of_birth"]), SEX.get(row["sex"])
        pc = re.sub(r"\s", "", row["postcode"]).upper()
        if row["date_of_birth"]: assert dob, row["date_of_birth"]
        if row["sex"]: assert sex, row["sex"]
        if dob and sex and pc:
            route = True
            key = (dob, sex, pc)
            assert dsp_of.setdefault(person, key) == key, "person has two triples"
            assert person_of_dsp.setdefault(key, person) == person, "triple shared"
        else:
            assert node in ("charity", "university") and nhs_valid(nhs)
            stats[node, "dsp_incomplete"] += 1
        assert route, (node, row)
    stats[node, "people"] = len(people_in[node])

n = int(sys.argv[3])
for node, _ in FILES:
    r = max(stats[node, "rows"], 1)
    print(f"{node:10} rows={r:8} people={stats[node,'people']/n:6.1%} "
          f"nhs_present={stats[node,'nhs_present']/r:6.1%} typo={stats[node,'nhs_typo']/r:5.1%} "
          f"dsp_incomplete={stats[node,'dsp_incomplete']/r:5.1%}")
print(f"distinct people linked: nhs={len(person_of_nhs)} dsp={len(person_of_dsp)}; all checks passed")
