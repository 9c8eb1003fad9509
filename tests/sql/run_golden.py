"""Golden tests for `eddy sql` against a live `eddy serve` (sqllogictest-style files).

Usage: run_golden.py EDDY_BINARY FILE.test [FILE.test ...]

A file is a sequence of blocks separated by blank lines. '#' lines are comments.

  statement ok                  the statement succeeds (any output)
  statement error CODE          it fails with this MongoDB/eddy error code (exit status 1)
  query [rowsort]               it succeeds and prints exactly the rows below (JSON lines)
  stream N                      a CHANGES() query run with --max-rows N: prints exactly the rows
  mark                          remember the server's operation time as {{start}} for streams

After the SQL lines an optional '----' line starts the expectations:
  translation: <one line of JSON>   the command EXPLAIN prints (relaxed Extended JSON, $db included);
                                    repeated for statements that send several (DDL validation reads)
A date written {"$date": "*"} in a translation or row matches any date (creation times).
  error: <text>                     a substring of the error message (statement error)
  rows:                             followed by one JSON object per line (query / stream)

A header may end with 'xfail: <reason>' when the server lacks a feature the translation needs:
the block must fail (an unexpected pass fails the file, so the mark is removed when fixed).
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers"))
from eddy_server import EddyServer  # noqa: E402

DB = "golden"


def ordered(text):
    """JSON text -> a structure that compares exactly: key order and int vs float matter."""
    def conv(v):
        if isinstance(v, list) and v and isinstance(v[0], tuple):
            return ("obj", tuple((k, conv(x)) for k, x in v))
        if isinstance(v, list):
            return ("arr", tuple(conv(x) for x in v))
        if isinstance(v, bool):
            return ("bool", v)
        if isinstance(v, float):
            return ("float", v)
        if isinstance(v, int):
            return ("int", v)
        return (type(v).__name__, v)
    parsed = json.loads(text, object_pairs_hook=lambda pairs: pairs if pairs else [])
    if parsed == []:
        text_stripped = text.strip()
        if text_stripped.startswith("{"):
            return ("obj", ())
    return conv(parsed)


class Block:
    def __init__(self, path, line):
        self.path, self.line = path, line
        self.kind, self.args, self.xfail = "", [], None
        self.sql, self.translation, self.error, self.rows = [], [], None, None

    def where(self):
        return "%s:%d" % (os.path.basename(self.path), self.line)


def parse_file(path):
    blocks, cur, section = [], None, None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        if cur is None:
            if not line.strip() or line.startswith("#"):
                continue
            cur = Block(path, n)
            header = line
            if "xfail:" in header:
                header, cur.xfail = header.split("xfail:", 1)
                cur.xfail = cur.xfail.strip()
            parts = header.split()
            cur.kind, cur.args = parts[0], parts[1:]
            if cur.kind not in ("statement", "query", "stream", "mark"):
                raise SystemExit("%s: unknown block %r" % (cur.where(), line))
            section = "sql"
            if cur.kind == "mark":
                blocks.append(cur)
                cur = None
            continue
        if not line.strip():
            blocks.append(cur)
            cur, section = None, None
            continue
        if section == "sql":
            if line == "----":
                section = "expect"
            else:
                cur.sql.append(line)
        elif line.startswith("translation:"):
            cur.translation.append(line[len("translation:"):].strip())
        elif line.startswith("error:"):
            cur.error = line[len("error:"):].strip()
        elif line.strip() == "rows:":
            cur.rows = []
            section = "rows"
        elif section == "rows":
            cur.rows.append(line)
        else:
            raise SystemExit("%s: unexpected line %r" % (cur.where(), line))
    if cur is not None:
        blocks.append(cur)
    return blocks


ANY_DATE = '{"$date": "*"}'


def any_dates(got, want):
    """Where `want` writes {"$date": "*"}, any date in `got` matches."""
    if ANY_DATE in want:
        return re.sub(r'\{"\$date":\s*(?:"[^"]*"|\{"\$numberLong":\s*"[^"]*"\})\}', ANY_DATE, got)
    return got


def run_sql(eddy, uri, sql, extra=(), timeout=60):
    p = subprocess.run([eddy, "sql", "--uri", uri, "--db", DB, "--format", "json", *extra, "-c", sql],
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def check_block(eddy, uri, b, start):
    """Returns None when the block behaves as written, else a description of the difference."""
    sql = "\n".join(b.sql).replace("{{start}}", start or "")
    if b.translation:
        rc, out, err = run_sql(eddy, uri, "EXPLAIN " + sql)
        if rc != 0:
            return "EXPLAIN failed: " + err.strip()
        got = [l for l in out.split("\n") if l.strip()]
        want = b.translation
        if len(got) != len(want) or any(
                ordered(any_dates(g, w)) != ordered(w) for g, w in zip(got, want)):
            return "translation differs:\n  want %s\n  got  %s" % (
                "\n       ".join(want), "\n       ".join(got))
    extra = []
    if b.kind == "stream":
        extra = ["--max-rows", b.args[0], "--timeout", "20"]
    rc, out, err = run_sql(eddy, uri, sql, extra)
    if b.kind == "statement" and b.args[0] == "error":
        want_code = b.args[1]
        if rc != 1:
            return "expected error %s, got exit %d (stdout %r)" % (want_code, rc, out)
        if not err.rstrip().endswith(" %s)" % want_code):
            return "expected error code %s, got: %s" % (want_code, err.strip())
        if b.error and b.error not in err:
            return "error message lacks %r: %s" % (b.error, err.strip())
        return None
    if rc != 0:
        return "failed (exit %d): %s" % (rc, err.strip())
    if b.kind in ("query", "stream") and b.rows is not None:
        got = [l for l in out.split("\n") if l.strip()]
        want = list(b.rows)
        if "rowsort" in b.args:
            got, want = sorted(got), sorted(want)
        if len(got) != len(want) or any(
                ordered(any_dates(g, w)) != ordered(w) for g, w in zip(got, want)):
            return "rows differ:\n  want:\n    %s\n  got:\n    %s" % (
                "\n    ".join(want), "\n    ".join(got))
    return None


def operation_time(uri):
    import pymongo
    with pymongo.MongoClient(uri) as c:
        t = c[DB].command("ping")["operationTime"]
        return "%d,%d" % (t.time, t.inc + 1)


def main():
    eddy, files = sys.argv[1], sys.argv[2:]
    failures, passed, xfailed = 0, 0, 0
    for path in files:
        blocks = parse_file(path)
        with EddyServer(eddy, ["--sync", "off"]) as server:
            uri = server.uri
            start = None
            for b in blocks:
                if b.kind == "mark":
                    start = operation_time(uri)
                    continue
                problem = check_block(eddy, uri, b, start)
                if b.xfail:
                    if problem is None:
                        failures += 1
                        print("UNEXPECTED PASS %s (marked xfail: %s)" % (b.where(), b.xfail))
                    else:
                        xfailed += 1
                    continue
                if problem:
                    failures += 1
                    print("FAIL %s\n  %s\n  %s" % (b.where(), "\n  ".join(b.sql), problem))
                else:
                    passed += 1
    print("%d passed, %d expected failures, %d failed" % (passed, xfailed, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
