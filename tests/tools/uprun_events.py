#!/usr/bin/env python3
"""uprun's --json events against their JSON Schema (docs/events.schema.json).

Imported by the test drivers that run uprun --json (runtime_test.py, memcheck.py): every
line they get is validated with check(), so that every --json line the suite produces is
checked. Run alone, it checks the schema itself, and that it rejects broken events:

    uprun_events.py ROOT
"""
import json
import os
import sys

import jsonschema

_validators = {}


def validator(root):
    if root not in _validators:
        with open(os.path.join(root, "docs", "events.schema.json")) as f:
            schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(schema)
        _validators[root] = jsonschema.Draft7Validator(schema)
    return _validators[root]


def problems(root, stdout, complete=True):
    """What is wrong with uprun --json's output: a list of sentences (empty: nothing).

    complete: the run ended by itself, so its last line, and only that one, is the result."""
    v = validator(root)
    out = []
    lines = [l for l in stdout.replace("\r\n", "\n").split("\n") if l.strip()]
    if complete and not lines:
        return ["no output at all (the last line must be the result)"]
    for i, line in enumerate(lines, 1):
        try:
            ev = json.loads(line)
        except ValueError as e:
            out.append(f"line {i} is not JSON ({e}): {line[:200]}")
            continue
        errs = sorted(v.iter_errors(ev), key=lambda e: e.path)
        if errs:
            best = jsonschema.exceptions.best_match(errs)
            out.append(f"line {i} does not fit the schema: {best.message} at {list(best.absolute_path)}: "
                       f"{line[:300]}")
        if isinstance(ev, dict) and ev.get("event") == "result" and i != len(lines):
            out.append(f"line {i} is a result, but not the last line")
    if complete and lines:
        try:
            last = json.loads(lines[-1])
        except ValueError:
            last = None
        if not isinstance(last, dict) or last.get("event") != "result":
            out.append(f"the last line is not the result: {lines[-1][:200]}")
    return out


# --- alone: the schema, and events it must refuse ------------------------------------------

BAD = [
    ({"event": "drift", "message": "m", "table": "T", "object": "column", "name": "c", "change": "differs",
      "field": None, "expected": False, "found": True}, "a drift that differs names its field"),
    ({"event": "drift", "message": "m"}, "a drift names table, object, field"),
    ({"event": "status", "message": "m", "current_version": "1.0"}, "status has targets and history"),
    ({"event": "result", "code": 0, "message": "ok"}, "a result has a hint"),
    ({"event": "result", "code": 12, "message": "ok", "hint": ""}, "exit statuses go to 9"),
    ({"event": "step", "state": "done", "message": "m", "step": 1, "from": None, "to": "1.0",
      "direction": "up", "position": 1, "count": 1}, "a step done has elapsed and atomic"),
    ({"event": "frobnicate", "message": "m"}, "an unknown event"),
    ({"event": "info", "message": "m", "password": "x"}, "an unknown member"),
]
GOOD = [
    {"event": "info", "message": "m"},
    {"event": "result", "code": 2, "message": "unknown option \"--x\"", "hint": "Try \"uprun --help\"."},
    {"event": "drift", "message": "m", "table": "T", "object": "column", "name": "c", "change": "differs",
     "field": "not_null", "expected": False, "found": True},
    {"event": "drift", "message": "m", "table": "T", "object": "column", "name": "Extra", "change": "unexpected",
     "field": None, "expected": None, "found": {"name": "Extra"}},
]

if __name__ == "__main__":
    root = sys.argv[1]
    fails = 0
    v = validator(root)
    print("ok the schema is a valid draft-07 JSON Schema")
    for ev, why in BAD:
        if v.is_valid(ev):
            print(f"FAILED the schema accepts a broken event ({why}): {json.dumps(ev)}")
            fails += 1
        else:
            print(f"ok refused: {why}")
    for ev in GOOD:
        if not v.is_valid(ev):
            print(f"FAILED the schema refuses a good event: {json.dumps(ev)}")
            fails += 1
        else:
            print(f"ok accepted: {json.dumps(ev)[:80]}")
    p = problems(root, '{"event":"info","message":"m"}\n')
    if not any("last line is not the result" in x for x in p):
        print("FAILED output without a result line is accepted")
        fails += 1
    sys.exit(1 if fails else 0)
