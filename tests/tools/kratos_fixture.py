#!/usr/bin/env python3
"""Derives tests/fixtures/kratos-schema.json from the reference kratos-schema.md
(shared/reference/, outside the repository): the schema after each release, as
the reference states it. Run it again when the reference changes:

    tests/tools/kratos_fixture.py ../shared/reference/kratos-schema.md > tests/fixtures/kratos-schema.json

Per version and table: columns (family, nullability, default, PostgreSQL type,
SQLite declared type), the primary key, the unique column sets, the indexes and
the foreign keys with both actions. The release sections are applied to the
schema before them; "unique column sets a -> b" lines are checked against the
unique indexes, not applied."""
import copy
import json
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
lines = text.splitlines()

COL = re.compile(r"^\s*\| (\w+) \| ([^|]+?) \| (null|not null) \| ([^|]*?) \| ([^|]+?) \| ([^|]+?) \|$")


def parse_default(s):
    s = s.strip()
    if not s:
        return None
    if s.startswith("'") and s.endswith("'"):
        return {"string": s[1:-1].replace("''", "'")}
    if s in ("true", "false"):
        return {"bool": s == "true"}
    if s.lower() == "current_timestamp":
        return {"expr": "current_timestamp"}
    raise SystemExit(f"unknown default {s!r}")


def parse_cols(s):
    return [c.strip() for c in s.split(",")]


def parse_fk(s):
    m = re.match(r"foreign key `(\w+)` \(([^)]*)\) -> (\w+)\(([^)]*)\) on delete ([a-z ]+), on update ([a-z ]+)$", s)
    if not m:
        raise SystemExit(f"foreign key not understood: {s!r}")
    return {"name": m[1], "columns": parse_cols(m[2]), "ref_table": m[3], "ref_columns": parse_cols(m[4]),
            "on_delete": m[5].strip(), "on_update": m[6].strip()}


def table_block(i):
    """Parses a table block whose "| column |" header is at or after line i; returns (table, next line)."""
    t = {"columns": {}, "primary_key": None, "unique": [], "indexes": {}, "foreign_keys": []}
    while "| column |" not in lines[i]:
        i += 1
    indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
    i += 2
    while i < len(lines) and COL.match(lines[i]):
        m = COL.match(lines[i])
        t["columns"][m[1]] = {"type": m[2].strip(), "not_null": m[3] == "not null",
                              "default": parse_default(m[4]), "postgres": m[5].strip(), "sqlite": m[6].strip()}
        i += 1
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith(indent + "- ")):
        s = lines[i].strip()
        i += 1
        if not s:
            if i < len(lines) and lines[i].startswith(indent + "- "):
                continue
            break
        s = s[2:]
        if s.startswith("primary key"):
            m = re.match(r"primary key `(\w+)` \(([^)]*)\)$", s)
            t["primary_key"] = {"name": m[1], "columns": parse_cols(m[2])}
        elif s.startswith("unique index") or s.startswith("index"):
            m = re.match(r"(unique )?index `(\w+)` \(([^)]*)\)$", s)
            t["indexes"][m[2]] = {"unique": bool(m[1]), "columns": parse_cols(m[3])}
        elif s.startswith("unique ("):
            t["unique"].append(parse_cols(s[len("unique ("):-1]))
        elif s.startswith("foreign key"):
            t["foreign_keys"].append(parse_fk(s))
        else:
            raise SystemExit(f"table line not understood: {s!r}")
    return t, i


def gains(s):
    m = re.match(r"gains column `(\w+)` \(([^;]+); PostgreSQL `([^`]+)`, SQLite declared `([^`]+)`\)$", s)
    if not m:
        raise SystemExit(f"column not understood: {s!r}")
    parts = [p.strip() for p in m[2].split(",")]
    # the type may itself hold a comma (none do here); then nullability, then a default
    col = {"type": parts[0], "not_null": parts[1] == "not null", "default": None,
           "postgres": m[3], "sqlite": m[4]}
    if len(parts) > 2:
        col["default"] = parse_default(parts[2][len("default "):])
    return m[1], col


def unique_sets(t):
    return sorted(ix["columns"] for ix in t["indexes"].values() if ix["unique"])


# section 1: the schema at 0.5.0
versions = []
i = next(k for k, l in enumerate(lines) if l.startswith("## 1."))
schema = {}
while i < len(lines) and not lines[i].startswith("## 2."):
    m = re.match(r"^#### `(\w+)`$", lines[i])
    if m:
        schema[m[1]], i = table_block(i + 1)
        continue
    i += 1
versions.append(("0.5.0", copy.deepcopy(schema)))

# sections 2 to 5: the changes of each release
for num, version in (("2.", "0.6.0"), ("3.", "0.7.0"), ("4.", "0.8.0"), ("5.", "0.8.2")):
    i = next(k for k, l in enumerate(lines) if l.startswith("## " + num))
    end = next((k for k, l in enumerate(lines) if k > i and l.startswith("## ")), len(lines))
    table = None
    k = i + 1
    while k < end:
        l = lines[k]
        s = l.strip()
        if s.startswith("Data changes"):
            break
        m = re.match(r"^- table `(\w+)` is dropped$", s)
        if m:
            del schema[m[1]]
            k += 1
            continue
        m = re.match(r"^- new table `(\w+)`:$", s)
        if m:
            schema[m[1]], k = table_block(k + 1)
            continue
        m = re.match(r"^- `(\w+)`:$", s)
        if m and not l.startswith("  "):
            table = schema[m[1]]
            k += 1
            continue
        if l.startswith("  - ") and table is not None:
            s = s[2:]
            if s.startswith("gains column"):
                name, col = gains(s)
                table["columns"][name] = col
            elif s.startswith("drops column"):
                del table["columns"][re.match(r"drops column `(\w+)`$", s)[1]]
            elif s.startswith("drops index"):
                del table["indexes"][re.match(r"drops index `(\w+)`$", s)[1]]
            elif re.match(r"new (unique )?index", s):
                m = re.match(r"new (unique )?index `(\w+)` \(([^)]*)\)$", s)
                table["indexes"][m[2]] = {"unique": bool(m[1]), "columns": parse_cols(m[3])}
            elif re.match(r"index `\w+` becomes", s):
                m = re.match(r"index `(\w+)` becomes (unique )?\(([^)]*)\)$", s)
                table["indexes"][m[1]] = {"unique": bool(m[2]), "columns": parse_cols(m[3])}
            elif s.startswith("new foreign key"):
                table["foreign_keys"].append(parse_fk(s[len("new "):]))
            elif s.startswith("unique column sets"):
                m = re.match(r"unique column sets (\[.*\]) -> (\[.*\])$", s)
                want = sorted(list(x) for x in eval(m[2]))  # the reference's own Python notation
                table["unique"] = want
                if unique_sets(table) != want:
                    raise SystemExit(f"{version}: the unique indexes {unique_sets(table)} are not {want}")
            elif s.startswith("column `"):
                m = re.match(r"column `(\w+)`: (\w+), (null|not null) -> (\w+), (null|not null)$", s)
                table["columns"][m[1]]["not_null"] = m[5] == "not null"
            else:
                raise SystemExit(f"{version}: change not understood: {s!r}")
        k += 1
    versions.append((version, copy.deepcopy(schema)))

for v, s in versions:
    for name, t in s.items():
        t["unique"] = sorted(t["unique"])
        if t["unique"] != unique_sets(t):
            raise SystemExit(f"{v} {name}: unique sets {t['unique']} are not the unique indexes {unique_sets(t)}")
        t["foreign_keys"].sort(key=lambda f: f["columns"])

json.dump({"source": "shared/reference/kratos-schema.md", "versions": {v: s for v, s in versions}},
          sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
