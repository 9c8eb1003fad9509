#!/usr/bin/env python3
"""Change streams through PyMongo (Debian python3-pymongo) against a real `eddy serve`: every
event type, the fullDocument / fullDocumentBeforeChange modes, each resume option, pipelines
after $changeStream (with eddy's $lookup enrichment), error labels and driver resume, split
large events, and fan-out: many awaiting watchers must not starve the server, and 10,000 open
streams must cost bounded memory. Prints 'N passed, N failed' and exits non-zero on failure."""
import sys
import threading
import time
import traceback

import pymongo
from bson.timestamp import Timestamp
from pymongo.errors import OperationFailure, PyMongoError

from eddy_server import EddyServer

results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    print("%s %s %s" % ("ok  " if cond else "FAIL", name, "" if cond else detail), flush=True)


class RawStream:
    """A change stream driven by raw aggregate/getMore commands: Debian's PyMongo 3.11 has no
    fullDocumentBeforeChange option on watch()."""

    def __init__(self, db, coll, stage, pipeline=()):
        r = db.command("aggregate", coll, pipeline=[{"$changeStream": stage}] + list(pipeline),
                       cursor={})
        self.db, self.coll = db, coll if coll != 1 else "$cmd.aggregate"
        self.id = r["cursor"]["id"]
        self.buf = list(r["cursor"]["firstBatch"])

    def try_next(self):
        if not self.buf and self.id:
            r = self.db.command("getMore", self.id, collection=self.coll, maxTimeMS=200)
            self.id = r["cursor"]["id"]
            self.buf = list(r["cursor"]["nextBatch"])
        return self.buf.pop(0) if self.buf else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.id:
            self.db.command("killCursors", self.coll, cursors=[self.id])


def drain(stream, n, timeout=10):
    """The next n events of a stream (fewer if they do not come within timeout)."""
    out = []
    deadline = time.time() + timeout
    while len(out) < n and time.time() < deadline:
        e = stream.try_next()
        if e is not None:
            out.append(e)
    return out


def event_types(client):
    db = client.cs
    db.drop_collection("orders")
    db.create_collection("orders")
    with db.orders.watch(max_await_time_ms=200) as s:
        db.orders.insert_one({"_id": 1, "status": "new", "items": [1, 2, 3]})
        db.orders.update_one({"_id": 1}, {"$set": {"status": "paid"}, "$unset": {"x": 1}})
        db.orders.replace_one({"_id": 1}, {"status": "replaced"})
        db.orders.delete_one({"_id": 1})
        db.orders.rename("orders2")
        ev = drain(s, 6)
        ops = [e["operationType"] for e in ev]
        check("collection stream: insert update replace delete rename invalidate",
              ops == ["insert", "update", "replace", "delete", "rename", "invalidate"], ops)
        if len(ev) == 6:
            check("insert shape", ev[0]["fullDocument"] == {"_id": 1, "status": "new", "items": [1, 2, 3]}
                  and ev[0]["ns"] == {"db": "cs", "coll": "orders"} and ev[0]["documentKey"] == {"_id": 1}
                  and isinstance(ev[0]["clusterTime"], Timestamp) and "wallTime" in ev[0], ev[0])
            ud = ev[1].get("updateDescription", {})
            check("update description", ud.get("updatedFields") == {"status": "paid"}
                  and ud.get("removedFields") == [] and ud.get("truncatedArrays") == [], ud)
            check("rename has to", ev[4].get("to") == {"db": "cs", "coll": "orders2"}, ev[4])
            check("invalidate closes the cursor", s.alive is False or s.try_next() is None)
    # Database stream: drop + dropDatabase + invalidate.
    db2 = client.csdb
    db2.a.insert_one({"_id": 0})
    with db2.watch(max_await_time_ms=200) as s:
        db2.a.insert_one({"_id": 1})
        db2.b.insert_one({"_id": 1})
        client.drop_database("csdb")
        ev = drain(s, 6)
        ops = [(e["operationType"], e.get("ns", {}).get("coll")) for e in ev]
        check("database stream sees all collections then dropDatabase + invalidate",
              ops[:2] == [("insert", "a"), ("insert", "b")] and ("dropDatabase", None) in ops
              and ops[-1][0] == "invalidate", ops)
    # Cluster stream: every database except admin/config/local, never invalidated.
    with client.watch(max_await_time_ms=200) as s:
        client.x1.c.insert_one({"_id": 1})
        client.x2.c.insert_one({"_id": 1})
        client.drop_database("x1")
        client.x2.c.insert_one({"_id": 2})
        ev = drain(s, 5)
        ops = [(e["operationType"], e["ns"].get("db")) for e in ev]
        check("cluster stream across databases",
              ops == [("insert", "x1"), ("insert", "x2"), ("drop", "x1"), ("dropDatabase", "x1"),
                      ("insert", "x2")], ops)
    # showExpandedEvents
    with RawStream(db, 1, {"showExpandedEvents": True}) as s:
        db.create_collection("exp")
        db.exp.create_index("k")
        db.exp.drop_index("k_1")
        ev = drain(s, 3)
        ops = [e["operationType"] for e in ev]
        check("expanded events", ops == ["create", "createIndexes", "dropIndexes"], ops)


def full_document_modes(client):
    db = client.cs
    db.drop_collection("img")
    db.create_collection("img", changeStreamPreAndPostImages={"enabled": True})
    db.drop_collection("plain")
    db.plain.insert_one({"_id": 1, "v": 0})
    db.img.insert_one({"_id": 1, "v": 0})
    with RawStream(db, "img", {"fullDocument": "required", "fullDocumentBeforeChange": "required"}) as s:
        db.img.update_one({"_id": 1}, {"$inc": {"v": 1}})
        e = drain(s, 1)
        check("required post- and pre-images", e and e[0]["fullDocument"] == {"_id": 1, "v": 1}
              and e[0]["fullDocumentBeforeChange"] == {"_id": 1, "v": 0}, e)
    with db.plain.watch(full_document="updateLookup", max_await_time_ms=200) as s:
        db.plain.update_one({"_id": 1}, {"$inc": {"v": 5}})
        e = drain(s, 1)
        check("updateLookup", e and e[0]["fullDocument"] == {"_id": 1, "v": 5}, e)
    with RawStream(db, "plain", {"fullDocument": "whenAvailable",
                                 "fullDocumentBeforeChange": "whenAvailable"}) as s:
        db.plain.update_one({"_id": 1}, {"$inc": {"v": 1}})
        e = drain(s, 1)
        check("whenAvailable without images gives nulls", e and e[0].get("fullDocument", 0) is None
              and e[0].get("fullDocumentBeforeChange", 0) is None, e)
    try:
        with RawStream(db, "plain", {"fullDocumentBeforeChange": "required"}) as s:
            db.plain.update_one({"_id": 1}, {"$inc": {"v": 1}})
            drain(s, 1, timeout=3)
        check("required pre-image missing fails", False)
    except OperationFailure as e:
        check("required pre-image missing fails with NoMatchingDocument", e.code == 47, e)


def resume_options(client):
    db = client.cs
    db.drop_collection("r")
    with db.r.watch(max_await_time_ms=200) as s:
        op_time = client.admin.command("ping")["operationTime"]
        db.r.insert_many([{"_id": i} for i in range(5)])
        ev = drain(s, 5)
        token2 = ev[2]["_id"]
        pbrt = s.resume_token
    with db.r.watch(resume_after=token2, max_await_time_ms=200) as s:
        check("resumeAfter", [e["_id"] for e in [x["documentKey"] for x in drain(s, 2)]] == [3, 4])
    with db.r.watch(start_after=token2, max_await_time_ms=200) as s:
        check("startAfter", [e["documentKey"]["_id"] for e in drain(s, 2)] == [3, 4])
    with db.r.watch(start_at_operation_time=op_time, max_await_time_ms=200) as s:
        check("startAtOperationTime", [e["documentKey"]["_id"] for e in drain(s, 5)] == [0, 1, 2, 3, 4])
    db.r.insert_one({"_id": 5})
    with db.r.watch(resume_after=pbrt, max_await_time_ms=200) as s:
        check("resume from a postBatchResumeToken", [e["documentKey"]["_id"] for e in drain(s, 1)] == [5])
    # startAfter an invalidate continues with the re-created collection; resumeAfter is 260.
    with db.r.watch(max_await_time_ms=200) as s:
        db.drop_collection("r")
        ev = drain(s, 2)
        inv = ev[-1]["_id"] if ev and ev[-1]["operationType"] == "invalidate" else None
    check("drop gives invalidate", inv is not None, ev)
    db.r.insert_one({"_id": "again"})
    with db.r.watch(start_after=inv, max_await_time_ms=200) as s:
        e = drain(s, 1)
        check("startAfter invalidate", e and e[0]["documentKey"] == {"_id": "again"}, e)
    try:
        db.r.watch(resume_after=inv)
        check("resumeAfter invalidate is refused", False)
    except OperationFailure as e:
        check("resumeAfter invalidate is refused with 260", e.code == 260, e)
    try:
        db.r.watch(resume_after={"_data": "zz"})
        check("garbage token refused", False)
    except OperationFailure as e:
        check("garbage token refused", e.code in (2, 9), e)


def pipelines(client):
    db = client.cs
    db.drop_collection("o")
    db.drop_collection("customers")
    db.customers.insert_one({"_id": "c1", "name": "Ada", "tier": "gold"})
    pipeline = [
        {"$match": {"operationType": "insert", "fullDocument.total": {"$gt": 100}}},
        {"$lookup": {"from": "customers", "localField": "fullDocument.customer",
                     "foreignField": "_id", "as": "customer"}},
        {"$project": {"fullDocument.total": 1, "customer.name": 1, "operationType": 1}},
    ]
    with db.o.watch(pipeline, max_await_time_ms=200) as s:
        db.o.insert_many([{"_id": 1, "customer": "c1", "total": 50},
                          {"_id": 2, "customer": "c1", "total": 500}])
        e = drain(s, 1)
        check("$match + $lookup enrichment + $project", e and e[0]["fullDocument"] == {"total": 500}
              and e[0]["customer"] == [{"name": "Ada"}], e)
    try:
        with db.o.watch([{"$project": {"_id": 0}}], max_await_time_ms=200) as s:
            db.o.insert_one({"_id": 3})
            drain(s, 1, timeout=3)
        check("modifying _id fails", False)
    except OperationFailure as e:
        check("modifying _id fails with 280 and NonResumableChangeStreamError",
              e.code == 280 and "NonResumableChangeStreamError" in (e.details or {}).get("errorLabels", []), e.details)
    try:
        db.o.watch([{"$group": {"_id": 1}}])
        check("$group refused", False)
    except OperationFailure as e:
        check("$group refused with 20", e.code == 20, e)


def labels_and_resume(client):
    db = client.cs
    db.drop_collection("l")
    with db.l.watch(max_await_time_ms=200) as s:
        db.l.insert_one({"_id": 1})
        first = drain(s, 1)
        client.admin.command("configureFailPoint", "failGetMoreAfterCursorCheckout",
                             mode={"times": 1}, data={"errorCode": 6})
        db.l.insert_one({"_id": 2})
        # PyMongo sees HostUnreachable + ResumableChangeStreamError and resumes by itself.
        second = drain(s, 1)
        check("driver resumes on ResumableChangeStreamError without loss or duplicates",
              [e["documentKey"]["_id"] for e in first + second] == [1, 2], first + second)
    # The raw label on the getMore error.
    r = db.command("aggregate", "l", pipeline=[{"$changeStream": {}}], cursor={})
    cid = r["cursor"]["id"]
    client.admin.command("configureFailPoint", "failGetMoreAfterCursorCheckout",
                         mode={"times": 1}, data={"errorCode": 91})
    try:
        db.command("getMore", cid, collection="l", maxTimeMS=100)
        check("getMore error", False)
    except PyMongoError as e:  # 91 raises NotMasterError, an AutoReconnect
        check("ShutdownInProgress getMore carries ResumableChangeStreamError",
              "ResumableChangeStreamError" in (e.details or {}).get("errorLabels", []), e.details)


def large_events(client):
    db = client.cs
    db.drop_collection("big")
    db.create_collection("big", changeStreamPreAndPostImages={"enabled": True})
    db.big.insert_one({"_id": 1, "a": "x" * (6 << 20)})
    with RawStream(db, "big", {"fullDocument": "required", "fullDocumentBeforeChange": "required"},
                   [{"$changeStreamSplitLargeEvent": {}}]) as s:
        db.big.update_one({"_id": 1}, {"$set": {"a": "y" * (6 << 20)}})
        frags = drain(s, 2, timeout=20)
        check("an 18 MB event arrives in fragments", len(frags) >= 2
              and all("splitEvent" in f for f in frags)
              and frags[0]["splitEvent"] == {"fragment": 1, "of": len(frags)}, [f.get("splitEvent") for f in frags])
        merged = {}
        for f in frags:
            merged.update({k: v for k, v in f.items() if k not in ("_id", "splitEvent")})
        check("fragments reassemble the event", merged.get("fullDocument", {}).get("a", "")[:1] == "y"
              and merged.get("fullDocumentBeforeChange", {}).get("a", "")[:1] == "x"
              and merged.get("operationType") == "update", list(merged))
    try:
        with RawStream(db, "big", {"fullDocument": "required",
                                   "fullDocumentBeforeChange": "required"}) as s:
            db.big.update_one({"_id": 1}, {"$set": {"a": "z" * (6 << 20)}})
            drain(s, 1, timeout=20)
        check("large event without split fails", False)
    except OperationFailure as e:
        check("large event without split fails with BSONObjectTooLarge", e.code == 10334, e)


def catch_up_batches(client):
    """A backlog read with big batchSizes comes in replies of at most 60 KiB of events (the
    server's default --change-stream-reply-kb) while the server pulls ahead: every event once,
    in order, and each reply's postBatchResumeToken resumes right after its last event."""
    import bson
    db = client.cs
    db.drop_collection("backlog")
    db.create_collection("backlog")
    r = db.command("aggregate", "backlog", pipeline=[{"$changeStream": {}}], cursor={"batchSize": 0})
    start = r["cursor"]["postBatchResumeToken"]
    db.command("killCursors", "backlog", cursors=[r["cursor"]["id"]])
    n = 30000
    pad = "p" * 400
    for i in range(0, n, 5000):
        db.backlog.insert_many([{"_id": k, "pad": pad} for k in range(i, i + 5000)])
    r = db.command("aggregate", "backlog", pipeline=[{"$changeStream": {"resumeAfter": start}}],
                   cursor={"batchSize": 5000})
    cid, batch = r["cursor"]["id"], r["cursor"]["firstBatch"]
    seen, replies, biggest, tokens_ok, resume_at = [], 0, 0, True, None
    while True:
        replies += 1
        size = sum(len(bson.encode(e)) for e in batch)
        if len(batch) > 1:
            biggest = max(biggest, size)
        seen.extend(e["documentKey"]["_id"] for e in batch)
        if batch and r["cursor"]["postBatchResumeToken"] != batch[-1]["_id"]:
            tokens_ok = False
        if replies == 3:
            resume_at = (r["cursor"]["postBatchResumeToken"], len(seen))
        if len(seen) >= n or not batch:
            break
        r = db.command("getMore", cid, collection="backlog", batchSize=5000, maxTimeMS=1000)
        batch = r["cursor"]["nextBatch"]
    db.command("killCursors", "backlog", cursors=[cid])
    check("catch-up: every backlog event once, in order", seen == list(range(n)),
          "%d events, first wrong at %s" % (len(seen), next((k for k, v in enumerate(seen) if v != k), None)))
    check("catch-up: replies stay within 60 KiB of events", 0 < biggest <= 60 * 1024 and replies > 30,
          "%d replies, biggest %d bytes" % (replies, biggest))
    check("catch-up: postBatchResumeToken is each reply's last event", tokens_ok)
    token, k = resume_at
    r = db.command("aggregate", "backlog", pipeline=[{"$changeStream": {"resumeAfter": token}}],
                   cursor={"batchSize": 1})
    first = r["cursor"]["firstBatch"]
    db.command("killCursors", "backlog", cursors=[r["cursor"]["id"]])
    check("catch-up: resuming from a reply's token (server pulled ahead) gives the next event",
          len(first) == 1 and first[0]["documentKey"]["_id"] == k, first[:1])


def getmore_in_memory_never_blocks(server, client):
    """A getMore whose stream has unread entries in the hub's ring runs on the I/O thread; when
    none of them passes its filter it must park like any awaiting getMore, not block the
    thread (other connections on it would stall)."""
    db = client.cs
    db.drop_collection("quiet")
    db.quiet.insert_one({"_id": "warm"})
    streams = []
    for _ in range(4):
        r = db.command("aggregate", "quiet", pipeline=[{"$changeStream": {}},
                                                       {"$match": {"operationType": "delete"}}],
                       cursor={})
        streams.append(r["cursor"]["id"])
    db.quiet.insert_many([{"_id": i} for i in range(20)])  # entries none of the streams wants
    results = []

    def getmore(cid):
        c = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000)
        t0 = time.time()
        r = c.cs.command("getMore", cid, collection="quiet", maxTimeMS=1500)
        results.append((time.time() - t0, r["cursor"]["nextBatch"]))
        c.close()

    threads = [threading.Thread(target=getmore, args=(cid,)) for cid in streams]
    for t in threads:
        t.start()
    time.sleep(0.2)
    pings = []
    for _ in range(4):  # new connections land on every I/O thread
        c = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000)
        t0 = time.time()
        c.admin.command("ping")
        pings.append(time.time() - t0)
        c.close()
    for t in threads:
        t.join(10)
    check("getMore over unwanted ring entries parks, other connections unaffected",
          len(results) == 4 and all(b == [] and 1.0 < s < 5 for s, b in results) and max(pings) < 1.0,
          "getMores %s, pings %s" % ([round(s, 2) for s, _ in results], [round(p, 3) for p in pings]))
    db.quiet.delete_one({"_id": 3})
    r = db.command("getMore", streams[0], collection="quiet", maxTimeMS=2000)
    check("the parked stream then gets its delete",
          [e["operationType"] for e in r["cursor"]["nextBatch"]] == ["delete"], r["cursor"])
    db.command("killCursors", "quiet", cursors=streams)


def fan_out(server, client):
    db = client.fan
    db.drop_collection("t")
    db.t.insert_one({"_id": "warm"})
    # More awaiting watchers than the server has worker threads (32): none may hold one.
    n = 100
    got = [None] * n
    ready = threading.Barrier(n + 1)

    def watcher(i):
        c = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000)
        with c.fan.t.watch(max_await_time_ms=30000) as s:
            ready.wait()
            e = s.next()
            got[i] = (e["documentKey"]["_id"], time.time())
        c.close()

    threads = [threading.Thread(target=watcher, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    ready.wait()
    time.sleep(0.5)  # every watcher is in its awaiting getMore now
    t0 = time.time()
    db.t.insert_one({"_id": "go"})
    insert_s = time.time() - t0
    for t in threads:
        t.join(20)
    delivered = [g for g in got if g and g[0] == "go"]
    latency = max((g[1] - t0) for g in delivered) if delivered else None
    check("insert is not blocked by %d awaiting watchers" % n, insert_s < 2, "%.2fs" % insert_s)
    check("all %d watchers get the event promptly" % n, len(delivered) == n and latency < 5,
          "%d delivered, max latency %s" % (len(delivered), latency))
    print("fan-out: %d awaiting watchers, insert %.1f ms, last delivery %.1f ms" %
          (n, insert_s * 1000, (latency or 0) * 1000))

    # 10,000 open change streams on one server, bounded memory per idle stream.
    k = 10000
    rss0 = server.rss_kb()
    ids = []
    for i in range(k):
        r = db.command("aggregate", "t", pipeline=[
            {"$changeStream": {}}, {"$match": {"fullDocument.customer": i}}], cursor={})
        ids.append(r["cursor"]["id"])
    rss1 = server.rss_kb()
    per_stream = (rss1 - rss0) * 1024.0 / k
    check("10,000 open change streams", len(set(ids)) == k and all(ids))
    check("idle stream memory bounded (< 16 KiB each)", per_stream < 16384, "%.0f bytes" % per_stream)
    print("fan-out: %d open streams, RSS %d -> %d KiB (%.0f bytes per stream)" % (k, rss0, rss1, per_stream))
    db.t.insert_one({"_id": "c42", "customer": 42})
    r = db.command("getMore", ids[42], collection="t", maxTimeMS=2000)
    check("stream 42 of 10,000 gets its event",
          [e["documentKey"]["_id"] for e in r["cursor"]["nextBatch"]] == ["c42"], r["cursor"])
    r = db.command("getMore", ids[43], collection="t", maxTimeMS=100)
    check("stream 43 does not", r["cursor"]["nextBatch"] == [], r["cursor"])
    for i in range(0, k, 1000):
        db.command("killCursors", "t", cursors=ids[i:i + 1000])


def main():
    eddy = sys.argv[1]
    with EddyServer(eddy, ["--enable-test-commands"]) as server:
        client = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000, maxPoolSize=200)
        for part in (event_types, full_document_modes, resume_options, pipelines,
                     labels_and_resume, large_events, catch_up_batches):
            try:
                part(client)
            except Exception:
                traceback.print_exc()
                results.append((part.__name__, False))
        try:
            getmore_in_memory_never_blocks(server, client)
        except Exception:
            traceback.print_exc()
            results.append(("getmore_in_memory_never_blocks", False))
        try:
            fan_out(server, client)
        except Exception:
            traceback.print_exc()
            results.append(("fan_out", False))
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("pymongo change streams: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
