#!/usr/bin/env python3
"""plans/kratos.upg on a real database (issue 13's acceptance):

  schema     apply the bundle release by release, and after each one compare the
             live schema with tests/fixtures/kratos-schema.json (derived from the
             reference kratos-schema.md by tests/tools/kratos_fixture.py): every
             table, column, type (PostgreSQL's, or SQLite's declared type),
             nullability, default, primary key, unique column set, index name and
             columns, foreign key with both actions; then roll back to 0.5.0 and
             compare again.
  rows       rows written at 0.5.0 (an identity with a credential and its
             identifier, addresses, a recovery token, a session, a courier message,
             a login flow) are there at 0.8.2 with the values the reference gives
             for the backfilled columns.
  legacy     (SQLite) a database in the form Kratos's own migrations leave at 0.5.0,
             built here from the fixture and the reference's last section, is
             adopted by uprun baseline without --force, upgraded to 0.8.2 with its
             rows, and verifies clean.

usage: kratos_test.py --upc UPC --uprun UPRUN --schema-dump DUMP --root SRC --dialect D CHECK"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dbkit import Checks, Databases, run, signed_bundle  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("--uprun", required=True)
ap.add_argument("--schema-dump", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--dialect", required=True, choices=["sqlite", "postgres"])
ap.add_argument("check", choices=["schema", "rows", "legacy"])
a = ap.parse_args()
ck = Checks(f"kratos {a.check} ({a.dialect})")
PG = a.dialect == "postgres"
PLAN = os.path.join(a.root, "plans", "kratos.upg")
with open(os.path.join(a.root, "tests", "fixtures", "kratos-schema.json")) as f:
    FIXTURE = json.load(f)["versions"]
RELEASES = ["0.5.0", "0.6.0", "0.7.0", "0.8.0", "0.8.2"]


def expected_default(col):
    """The fixture's default in the runtime's canonical form (runtime/canon.h)."""
    d = col["default"]
    if d is None:
        return None
    if "expr" in d:
        return {"expr": d["expr"]}
    if "bool" in d:
        return ("true" if d["bool"] else "false") if PG else ("1" if d["bool"] else "0")
    return d["string"]


def live_schema(url):
    r = run([a.schema_dump, url])
    if r.returncode != 0:
        raise SystemExit(f"schema_dump failed: {r.stderr}")
    return {t["name"]: t for t in json.loads(r.stdout)["tables"]}


def differences(version, live):
    """Every difference between the fixture at version and the live schema, as sentences."""
    want, out = FIXTURE[version], []
    for name in sorted(set(want) | set(live)):
        if name not in live:
            out.append(f"table {name} is missing")
            continue
        if name not in want:
            out.append(f"table {name} is not in the reference")
            continue
        w, l = want[name], live[name]
        lcols = {c["name"]: c for c in l["columns"]}
        for cname in sorted(set(w["columns"]) | set(lcols)):
            wc, lc = w["columns"].get(cname), lcols.get(cname)
            if not lc or not wc:
                out.append(f"{name}.{cname}: {'missing' if wc else 'not in the reference'}")
                continue
            wtype = wc["postgres"] if PG else wc["sqlite"]
            if lc["type"] != wtype:
                out.append(f"{name}.{cname}: type {lc['type']!r}, the reference says {wtype!r}")
            if lc["not_null"] != wc["not_null"]:
                out.append(f"{name}.{cname}: not_null {lc['not_null']}, the reference says {wc['not_null']}")
            if lc["default"] != expected_default(wc):
                out.append(f"{name}.{cname}: default {lc['default']!r}, the reference says {expected_default(wc)!r}")
            if lc["identity"]:
                out.append(f"{name}.{cname}: an identity column")
        wpk, lpk = w["primary_key"], l["primary_key"]
        if (wpk is None) != (lpk is None) or (wpk and (wpk["columns"] != lpk["columns"] or
                                                       (PG and wpk["name"] != lpk["name"]))):
            out.append(f"{name}: primary key {lpk}, the reference says {wpk}")
        lidx = {i["name"]: i for i in l["indexes"]}
        for iname in sorted(set(w["indexes"]) | set(lidx)):
            wi, li = w["indexes"].get(iname), lidx.get(iname)
            if not wi or not li:
                out.append(f"{name}: index {iname} {'missing' if wi else 'not in the reference'}")
            elif wi["unique"] != li["unique"] or wi["columns"] != li["columns"]:
                out.append(f"{name}: index {iname} is {li}, the reference says {wi}")
        lunique = sorted([i["columns"] for i in l["indexes"] if i["unique"]] +
                         [u["columns"] for u in l["unique"]])
        if lunique != w["unique"]:
            out.append(f"{name}: unique column sets {lunique}, the reference says {w['unique']}")
        lfk = sorted(l["foreign_keys"], key=lambda f: f["columns"])
        wfk = w["foreign_keys"]
        if [f["columns"] for f in lfk] != [f["columns"] for f in wfk]:
            out.append(f"{name}: foreign keys on {[f['columns'] for f in lfk]}, the reference has "
                       f"{[f['columns'] for f in wfk]}")
        else:
            for wf, lf in zip(wfk, lfk):
                for field in ("ref_table", "ref_columns", "on_delete", "on_update") + (("name",) if PG else ()):
                    if wf[field] != lf.get(field):
                        out.append(f"{name}: foreign key {wf['name']}: {field} {lf.get(field)!r}, "
                                   f"the reference says {wf[field]!r}")
        if l["checks"]:
            out.append(f"{name}: checks {l['checks']}, the reference has none")
    return out


def compare(url, version, when):
    d = differences(version, live_schema(url))
    ck.expect(f"{when}: the live schema is the reference's {version} (0 differences)", not d,
              None if not d else type("R", (), {"returncode": len(d), "stdout": "\n".join(d[:40]), "stderr": ""}))


with tempfile.TemporaryDirectory(prefix="upg-kratos-") as tmp:
    dbs = Databases(a.dialect, tmp)
    bundle, pub = signed_bundle(a.upc, PLAN, tmp)

    def uprun(url, *args):
        return run([a.uprun, "--bundle", bundle, "--pubkey", pub, "--db", url] + list(args))

    def sql(url, text):
        return dbs.sql(url, text)

    def one(url, query):
        rows = sql(url, query)
        return rows[0][0] if rows and rows[0] else None

    # rows of 0.5.0, as Kratos writes them (uuids as text: SQLite stores them so)
    ID, CRED, IDENT, TYPE = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                             "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444")
    ADDR, VADDR, TOKEN, SESSION = ("55555555-5555-4555-8555-555555555555", "66666666-6666-4666-8666-666666666666",
                                   "77777777-7777-4777-8777-777777777777", "88888888-8888-4888-8888-888888888888")
    MSG, FLOW = "99999999-9999-4999-8999-999999999999", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
    T = "'2021-01-02 03:04:05'"
    TRUE = "true" if PG else "1"
    ROWS_050 = f"""
INSERT INTO identities (id, schema_id, traits, created_at, updated_at) VALUES ('{ID}', 'default', '{{"email": "a@example.org"}}', {T}, {T});
INSERT INTO identity_credential_types (id, name) VALUES ('{TYPE}', 'password');
INSERT INTO identity_credentials (id, config, identity_credential_type_id, identity_id, created_at, updated_at) VALUES ('{CRED}', '{{"hashed_password": "x"}}', '{TYPE}', '{ID}', {T}, {T});
INSERT INTO identity_credential_identifiers (id, identifier, identity_credential_id, created_at, updated_at) VALUES ('{IDENT}', 'a@example.org', '{CRED}', {T}, {T});
INSERT INTO identity_recovery_addresses (id, via, value, identity_id, created_at, updated_at) VALUES ('{ADDR}', 'email', 'a@example.org', '{ID}', {T}, {T});
INSERT INTO identity_verifiable_addresses (id, status, via, verified, value, identity_id, created_at, updated_at) VALUES ('{VADDR}', 'completed', 'email', {TRUE}, 'a@example.org', '{ID}', {T}, {T});
INSERT INTO identity_recovery_tokens (id, token, identity_recovery_address_id, created_at, updated_at, expires_at, issued_at) VALUES ('{TOKEN}', 'recovery-token', '{ADDR}', {T}, {T}, {T}, {T});
INSERT INTO sessions (id, expires_at, authenticated_at, identity_id, created_at, updated_at, token, active) VALUES ('{SESSION}', {T}, {T}, '{ID}', {T}, {T}, 'session-token', {TRUE});
INSERT INTO courier_messages (id, type, status, body, subject, recipient, created_at, updated_at) VALUES ('{MSG}', 1, 1, 'Hello', 'Welcome', 'a@example.org', {T}, {T});
INSERT INTO selfservice_login_flows (id, request_url, expires_at, active_method, csrf_token, created_at, updated_at, messages) VALUES ('{FLOW}', 'https://example.org/login', {T}, 'password', 'csrf', {T}, {T}, '[]');
"""

    def check_rows_082(url, label):
        net = one(url, "SELECT id FROM networks")
        ck.expect(f"{label}: one network", len(sql(url, "SELECT id FROM networks")) == 1 and net)
        expect_eq = [
            ("identity kept, in the network, active", f"SELECT schema_id || '|' || nid || '|' || state FROM identities WHERE id = '{ID}'",
             f"default|{net}|active"),
            ("credential kept, in the network", f"SELECT nid FROM identity_credentials WHERE id = '{CRED}'", net),
            ("identifier kept, its credential type filled from its credential",
             f"SELECT identifier || '|' || identity_credential_type_id || '|' || nid FROM identity_credential_identifiers WHERE id = '{IDENT}'",
             f"a@example.org|{TYPE}|{net}"),
            ("recovery address kept", f"SELECT value || '|' || nid FROM identity_recovery_addresses WHERE id = '{ADDR}'",
             f"a@example.org|{net}"),
            ("verifiable address kept", f"SELECT status || '|' || nid FROM identity_verifiable_addresses WHERE id = '{VADDR}'",
             f"completed|{net}"),
            ("recovery token kept, its identity filled from its address",
             f"SELECT token || '|' || identity_id || '|' || identity_recovery_address_id || '|' || nid FROM identity_recovery_tokens WHERE id = '{TOKEN}'",
             f"recovery-token|{ID}|{ADDR}|{net}"),
            ("session kept, logout token = token, aal1, legacy authentication method",
             f"SELECT token || '|' || logout_token || '|' || aal || '|' || nid FROM sessions WHERE id = '{SESSION}'",
             f"session-token|session-token|aal1|{net}"),
            ("courier message kept, template type empty", f"SELECT subject || '|' || template_type || '|' || nid FROM courier_messages WHERE id = '{MSG}'",
             f"Welcome||{net}"),
            ("login flow kept, ui {}, internal context {}, aal1",
             f"SELECT request_url || '|' || ui || '|' || internal_context || '|' || requested_aal || '|' || nid FROM selfservice_login_flows WHERE id = '{FLOW}'",
             f"https://example.org/login|{{}}|{{}}|aal1|{net}"),
        ]
        for what, q, want in expect_eq:
            got = one(url, q)
            ck.expect(f"{label}: {what}", got == want,
                      type("R", (), {"returncode": 1, "stdout": f"got {got!r}, want {want!r}", "stderr": ""}))
        methods = one(url, f"SELECT authentication_methods FROM sessions WHERE id = '{SESSION}'")
        ck.expect(f"{label}: the session's authentication methods are the v0.6 legacy one",
                  methods is not None and json.loads(methods) == [{"method": "v0.6_legacy_session"}])
        types = sorted(r[0] for r in sql(url, "SELECT name FROM identity_credential_types"))
        ck.expect(f"{label}: the credential types are seeded once, the 0.5 one kept",
                  types == sorted(["password", "oidc", "totp", "lookup_secret", "webauthn"]), None)
        ck.expect(f"{label}: the 0.5 password type keeps its id",
                  one(url, "SELECT id FROM identity_credential_types WHERE name = 'password'") == TYPE)

    if a.check == "schema":
        db = dbs.new()
        for v in RELEASES:
            r = uprun(db, "apply", "--to", v, "--ack-all")
            if not ck.expect(f"apply --to {v}", r.returncode == 0, r):
                break
            compare(db, v, f"after {v}")
            r = uprun(db, "verify")
            ck.expect(f"uprun verify at {v}", r.returncode == 0, r)
        r = uprun(db, "rollback", "--to", "0.5.0", "--allow-data-loss")
        ck.expect("rollback --to 0.5.0", r.returncode == 0, r)
        compare(db, "0.5.0", "back at 0.5.0")
        # and straight from 0.5.0 to the last release, as Kratos's guide allows
        r = uprun(db, "apply", "--ack-all")
        ck.expect("apply 0.5.0 -> 0.8.2 in one run", r.returncode == 0, r)
        compare(db, "0.8.2", "after 0.5.0 -> 0.8.2 in one run")

    elif a.check == "rows":
        db = dbs.new()
        r = uprun(db, "apply", "--to", "0.5.0")
        ck.expect("apply --to 0.5.0", r.returncode == 0, r)
        sql(db, ROWS_050)
        for v in RELEASES[1:]:
            r = uprun(db, "apply", "--to", v, "--ack-all")
            ck.expect(f"apply --to {v} with rows", r.returncode == 0, r)
        check_rows_082(db, "at 0.8.2")

    elif a.check == "legacy":
        if PG:
            print("the legacy forms are SQLite's: skipped")
            ck.finish()
        # Kratos's own 0.5.0 on SQLite, from the fixture: id TEXT PRIMARY KEY without NOT NULL,
        # bool defaults written as the string 'false', names of keys not kept
        db = dbs.new()
        stmts = []
        order = ["identities", "identity_credential_types", "identity_credentials", "identity_credential_identifiers",
                 "identity_recovery_addresses", "identity_verifiable_addresses", "selfservice_login_flows",
                 "selfservice_login_flow_methods", "selfservice_registration_flows",
                 "selfservice_registration_flow_methods", "selfservice_recovery_flows",
                 "selfservice_recovery_flow_methods", "selfservice_settings_flows", "selfservice_settings_flow_methods",
                 "selfservice_verification_flows", "selfservice_verification_flow_methods", "identity_recovery_tokens",
                 "identity_verification_tokens", "sessions", "selfservice_errors", "continuity_containers",
                 "courier_messages"]
        fixture = FIXTURE["0.5.0"]
        assert sorted(order) == sorted(fixture)
        for name in order:
            t = fixture[name]
            defs = []
            for cname, c in t["columns"].items():
                d = f'"{cname}" {c["sqlite"]}'
                if t["primary_key"]["columns"] == [cname]:
                    d += " PRIMARY KEY"  # the legacy form: no NOT NULL
                elif c["not_null"]:
                    d += " NOT NULL"
                dv = c["default"]
                if dv is not None:
                    if "bool" in dv:
                        d += " DEFAULT 'false'" if not dv["bool"] else " DEFAULT 'true'"
                    elif "expr" in dv:
                        d += " DEFAULT CURRENT_TIMESTAMP"
                    else:
                        d += " DEFAULT '" + dv["string"].replace("'", "''") + "'"
                defs.append(d)
            for fk in t["foreign_keys"]:
                defs.append(f'FOREIGN KEY ({", ".join(fk["columns"])}) REFERENCES {fk["ref_table"]} '
                            f'({", ".join(fk["ref_columns"])}) ON DELETE {fk["on_delete"].upper()}')
            stmts.append(f'CREATE TABLE "{name}" (\n  ' + ",\n  ".join(defs) + "\n);")
            for iname, ix in t["indexes"].items():
                stmts.append(f'CREATE {"UNIQUE " if ix["unique"] else ""}INDEX "{iname}" ON "{name}" '
                             f'({", ".join(ix["columns"])});')
        sql(db, "\n".join(stmts))
        r = uprun(db, "verify")
        ck.expect("verify before the baseline: no history, refused as not recorded", r.returncode != 0, r)
        r = uprun(db, "baseline", "--version", "0.5.0")
        out = r.stdout + r.stderr
        ck.expect("baseline --version 0.5.0 of Kratos's own SQLite database, without --force",
                  r.returncode == 0, r)
        ck.expect("baseline says which legacy forms it accepted", "legacy form" in out, r)
        sql(db, ROWS_050.replace(f", {TRUE});", ", 1);"))
        r = uprun(db, "apply", "--ack-all")
        ck.expect("apply 0.5.0 -> 0.8.2 on the adopted database", r.returncode == 0, r)
        r = uprun(db, "verify")
        ck.expect("verify at 0.8.2: only legacy forms, no drift", r.returncode == 0, r)
        check_rows_082(db, "adopted, at 0.8.2")
        # a table the plan rebuilt is in the plan's form now: sessions (0.8.0 adds a not null column)
        live = live_schema(db)
        sid = next(c for c in live["sessions"]["columns"] if c["name"] == "id")
        ck.expect("a table rebuilt by a step is in the plan's form (sessions.id not null)", sid["not_null"])
        # and something that is not a legacy form is still drift
        sql(db, 'CREATE INDEX "not_in_the_plan" ON "networks" ("created_at")')
        r = uprun(db, "verify")
        ck.expect("an index the plan does not know is drift (exit 7)", r.returncode == 7, r)

ck.finish()
