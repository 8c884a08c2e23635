"""dbkit: what the end-to-end tests of plans share: fresh SQLite files or
PostgreSQL databases (on the server with_postgres.sh started: UPG_TEST_PGURI),
running SQL on them, signed bundles, and a check list that ends with the
closing line the test scripts print."""
import os
import sqlite3
import subprocess
import sys


class Checks:
    """expect() records each check; finish() prints the summary and exits."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.passed = 0

    def expect(self, what, cond, r=None):
        if cond:
            self.passed += 1
            print("ok", what)
            return True
        detail = ""
        if r is not None:
            detail = (f"\n  status {r.returncode}\n  stdout {r.stdout[-2000:]}"
                      f"\n  stderr {r.stderr[-2000:]}")
        self.failures.append(what + detail)
        print("FAILED", what + detail)
        return False

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


def run(args, env=None, **kw):
    e = dict(os.environ)
    e.pop("UPG_FAULT_EXIT_AFTER", None)
    e.update(env or {})
    return subprocess.run(args, capture_output=True, text=True, env=e, **kw)


class Databases:
    """Fresh databases of one dialect, made in tmp (SQLite) or on the test's server."""

    def __init__(self, dialect, tmp):
        self.dialect = dialect
        self.pg = dialect == "postgres"
        self.tmp = tmp
        self.count = 0
        if self.pg and not os.environ.get("UPG_TEST_PGURI"):
            sys.exit("UPG_TEST_PGURI is not set: run under tests/tools/with_postgres.sh")

    def psql(self, url, text):
        r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atq", "-F", "\x1f", "-c", text],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql: {r.stderr}")
        return r.stdout

    def new(self):
        self.count += 1
        if self.pg:
            base = os.environ["UPG_TEST_PGURI"]
            name = f"upg_t_{os.getpid()}_{self.count}"
            self.psql(base, f'CREATE DATABASE "{name}"')
            return f"{base} dbname={name}"
        return "sqlite:" + os.path.join(self.tmp, f"db{self.count}.sqlite")

    def sql(self, url, text):
        """Runs statements; the rows of the last one as lists of strings ("" for NULL)."""
        if self.pg:
            out = self.psql(url, text)
            return [l.split("\x1f") for l in out.splitlines() if l]
        con = sqlite3.connect(url[len("sqlite:"):])
        try:
            if ";" in text.strip().rstrip(";"):
                con.executescript(text)
                rows = []
            else:
                rows = [[("" if v is None else str(v)) for v in row]
                        for row in con.execute(text).fetchall()]
            con.commit()
            return rows
        finally:
            con.close()


def signed_bundle(upc, plan, tmp, name="bundle"):
    """Builds plan into tmp/name, signed with a new key; returns (bundle, pubkey)."""
    key = os.path.join(tmp, name + "-key")
    r = run([upc, "keygen", "-o", key])
    if r.returncode != 0:
        sys.exit(f"upc keygen failed:\n{r.stderr}")
    out = os.path.join(tmp, name)
    r = run([upc, "build", plan, "-o", out, "--key", key + ".key"])
    if r.returncode != 0:
        sys.exit(f"upc build {plan} failed:\n{r.stderr}")
    return out, key + ".pub"
