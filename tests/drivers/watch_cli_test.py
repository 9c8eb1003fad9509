#!/usr/bin/env python3
"""`eddy watch` against a real `eddy serve`: events as Extended JSON lines for shell pipelines,
filters, updateLookup, resume from a printed token, database and deployment targets, and clear
errors for bad input. Prints 'N passed, N failed' and exits non-zero on failure."""
import json
import subprocess
import sys
import time
import traceback

import pymongo

from eddy_server import EddyServer

results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    print("%s %s %s" % ("ok  " if cond else "FAIL", name, "" if cond else detail), flush=True)


def watch(eddy, uri, *args):
    return subprocess.Popen([eddy, "watch", "--uri", uri, "--max-await-ms", "200"] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lines(proc, timeout=20):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return [json.loads(l) for l in out.splitlines() if l.strip()], err, proc.returncode


def run(eddy, server):
    uri = "mongodb://127.0.0.1:%d" % server.port
    client = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000)
    db = client.shop
    db.orders.insert_one({"_id": 0})

    p = watch(eddy, uri, "shop.orders", "--filter", "{operationType: {$in: ['insert', 'update']}}",
              "--full-document", "updateLookup", "--max-events", "3")
    time.sleep(1.0)  # the stream is open
    db.orders.insert_one({"_id": 1, "status": "new", "total": 1500})
    db.orders.delete_one({"_id": 0})
    db.orders.update_one({"_id": 1}, {"$set": {"status": "shipped"}})
    db.orders.insert_one({"_id": 2, "status": "new", "total": 10})
    events, err, rc = lines(p)
    check("eddy watch prints one JSON event per line and exits after --max-events",
          rc == 0 and [e["operationType"] for e in events] == ["insert", "update", "insert"], (rc, err, events))
    if len(events) == 3:
        check("updateLookup full document", events[1]["fullDocument"] == {"_id": 1, "status": "shipped", "total": 1500}, events[1])
        check("relaxed Extended JSON (clusterTime as $timestamp)", "$timestamp" in events[0]["clusterTime"], events[0])
        token = events[0]["_id"]
        p = watch(eddy, uri, "shop.orders", "--resume-after", json.dumps(token), "--max-events", "2")
        resumed, err, rc = lines(p)
        check("--resume-after a printed token", [e["documentKey"]["_id"] for e in resumed] == [0, 1], (err, resumed))
        p = watch(eddy, uri, "shop.orders", "--resume-after", token["_data"], "--max-events", "1")
        resumed, err, rc = lines(p)
        check("--resume-after bare hex", [e["operationType"] for e in resumed] == ["delete"], (err, resumed))

    p = watch(eddy, uri, "shop", "--max-events", "2")
    time.sleep(1.0)
    db.a.insert_one({"_id": 1})
    db.b.insert_one({"_id": 1})
    events, err, rc = lines(p)
    check("database target", [e["ns"]["coll"] for e in events] == ["a", "b"], (err, events))

    p = watch(eddy, uri, "*", "--max-events", "1")
    time.sleep(1.0)
    client.other.c.insert_one({"_id": 1})
    events, err, rc = lines(p)
    check("deployment target", [e["ns"]["db"] for e in events] == ["other"], (err, events))

    p = watch(eddy, uri, "shop.orders", "--idle-timeout-ms", "500")
    events, err, rc = lines(p)
    check("--idle-timeout-ms exits cleanly", rc == 0 and events == [], (rc, err))

    p = watch(eddy, uri, "shop.orders", "--filter", "{operationType: ")
    events, err, rc = lines(p)
    check("bad --filter is a clear error", rc == 2 and "--filter" in err, (rc, err))
    p = watch(eddy, uri, "shop.orders", "--filter", "{x: {$bogus: 1}}")
    events, err, rc = lines(p)
    check("server error is printed with its code", rc == 1 and "$bogus" in err, (rc, err))
    p = watch(eddy, uri, "shop.orders", "--resume-after", "{_data: 'zz'}")
    events, err, rc = lines(p)
    check("bad resume token is a clear error", rc == 1 and "token" in err, (rc, err))


def main():
    eddy = sys.argv[1]
    with EddyServer(eddy) as server:
        try:
            run(eddy, server)
        except Exception:
            traceback.print_exc()
            results.append(("exception", False))
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("eddy watch: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
