#!/usr/bin/env python3
"""The seed article's order/inventory workflow through PyMongo (Debian python3-pymongo)
against a real `eddy serve`. Prints 'N passed, N failed' and exits non-zero on failure."""
import sys
import threading
import traceback

import pymongo
from pymongo import InsertOne, UpdateOne, DeleteOne
from pymongo.errors import DuplicateKeyError, OperationFailure

import conformance_test
from eddy_server import EddyServer

results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    if not cond:
        print("FAIL %s %s" % (name, detail))


def run(uri):
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    db = client.shop
    check("ping", db.command("ping")["ok"] == 1)
    check("hello is a replica-set primary", client.admin.command("ismaster").get("setName") == "rs0")

    # insertMany
    r = db.inventory.insert_many([
        {"_id": "sku-1", "product": "Keyboard", "available": 10, "reserved": 0, "reservations": []},
        {"_id": "sku-2", "product": "Mouse", "available": 1, "reserved": 0, "reservations": []},
        {"_id": "sku-3", "product": "Screen", "available": 5, "reserved": 0, "reservations": []},
    ])
    check("insert_many", len(r.inserted_ids) == 3)
    db.customers.insert_many([{"_id": "c-1", "name": "Ada", "tier": "gold"},
                              {"_id": "c-2", "name": "Bob", "tier": "silver"}])
    orders = [{"_id": "o-%d" % i, "customer_id": "c-%d" % (i % 2 + 1),
               "status": "pending" if i % 3 else "shipped", "total_amount": 50.0 * i,
               "items": [{"product_id": "sku-1", "quantity": 1 + i % 2}]} for i in range(1, 11)]
    db.orders.insert_many(orders)

    # find with filters, sort, limit
    top = list(db.orders.find({"status": "pending", "total_amount": {"$gte": 100}},
                              {"total_amount": 1}).sort("total_amount", -1).limit(2))
    check("find sort limit", [d["_id"] for d in top] == ["o-10", "o-8"], top)
    check("find_one", db.orders.find_one({"_id": "o-3"})["status"] == "shipped")
    check("batched cursor", len(list(db.orders.find().batch_size(3))) == 10)

    # updateOne with $inc/$push under a $gte filter (reserve inventory)
    def reserve(sku, qty, order):
        return db.inventory.update_one(
            {"_id": sku, "available": {"$gte": qty}},
            {"$inc": {"available": -qty, "reserved": qty},
             "$push": {"reservations": {"order_id": order, "quantity": qty}}}).modified_count
    check("reserve ok", reserve("sku-1", 3, "o-1") == 1)
    check("reserve insufficient", reserve("sku-2", 2, "o-1") == 0)
    inv = db.inventory.find_one({"_id": "sku-1"})
    check("reserved state", inv["available"] == 7 and inv["reservations"] == [{"order_id": "o-1", "quantity": 3}], inv)

    # bulkWrite
    br = db.orders.bulk_write([
        InsertOne({"_id": "o-11", "customer_id": "c-1", "status": "pending", "total_amount": 5.0, "items": []}),
        UpdateOne({"_id": "o-2"}, {"$set": {"status": "paid"}}),
        UpdateOne({"_id": "o-99"}, {"$set": {"status": "new"}}, upsert=True),
        DeleteOne({"_id": "o-11"}),
    ])
    check("bulk_write", br.inserted_count == 1 and br.modified_count == 1 and br.upserted_count == 1
          and br.deleted_count == 1, br.bulk_api_result)

    # deleteOne, countDocuments
    check("delete_one", db.orders.delete_one({"_id": "o-99"}).deleted_count == 1)
    check("count_documents", db.orders.count_documents({"status": "pending"}) == 6)
    check("count_documents skip/limit", db.orders.count_documents({}, skip=2, limit=5) == 5)
    check("estimated_document_count", db.orders.estimated_document_count() == 10)
    check("distinct", sorted(db.orders.distinct("customer_id")) == ["c-1", "c-2"])

    # aggregation with $lookup and $group
    agg = list(db.orders.aggregate([
        {"$match": {"status": {"$in": ["pending", "paid"]}}},
        {"$lookup": {"from": "customers", "localField": "customer_id", "foreignField": "_id", "as": "customer"}},
        {"$unwind": "$customer"},
        {"$group": {"_id": "$customer.tier", "orders": {"$sum": 1}, "revenue": {"$sum": "$total_amount"}}},
        {"$sort": {"_id": 1}},
    ]))
    check("aggregate lookup group", [(d["_id"], d["orders"]) for d in agg] == [("gold", 4), ("silver", 3)], agg)

    # createIndex with a unique violation
    db.customers.create_index("name", unique=True)
    try:
        db.customers.insert_one({"_id": "c-3", "name": "Ada"})
        check("unique violation raised", False)
    except DuplicateKeyError as e:
        check("unique violation raised", e.code == 11000)
    try:
        db.orders.find_one({"status": {"$bogus": 1}})
        check("bad operator raised", False)
    except OperationFailure as e:
        check("bad operator raised", e.code == 2 and "$bogus" in str(e))

    # findAndModify
    doc = db.orders.find_one_and_update({"_id": "o-4"}, {"$set": {"status": "shipped"}},
                                        return_document=pymongo.ReturnDocument.AFTER)
    check("find_one_and_update", doc["status"] == "shipped")

    # A change stream sees the next order and its status update (the seed article's watcher).
    with db.orders.watch([{"$match": {"operationType": {"$in": ["insert", "update"]}}}],
                         full_document="updateLookup") as stream:
        db.orders.insert_one({"_id": "o-20", "status": "pending", "total_amount": 1200.0})
        db.orders.update_one({"_id": "o-20"}, {"$set": {"status": "shipped"}})
        e1 = stream.next()
        e2 = stream.next()
        check("watch insert", e1["operationType"] == "insert" and e1["fullDocument"]["_id"] == "o-20", e1)
        check("watch update", e2["operationType"] == "update"
              and e2["updateDescription"]["updatedFields"] == {"status": "shipped"}
              and e2["fullDocument"]["status"] == "shipped", e2)
        token = stream.resume_token
    db.orders.update_one({"_id": "o-20"}, {"$set": {"status": "delivered"}})
    with db.orders.watch(resume_after=token) as resumed:
        e3 = resumed.next()
        check("resume_after", e3["updateDescription"]["updatedFields"] == {"status": "delivered"}, e3)

    # failCommand fail point (test commands): an injected error, then a dropped connection
    # on a retryable write that PyMongo retries, applied exactly once.
    admin = client.admin
    check("enableTestCommands", admin.command("getParameter", 1, enableTestCommands=1)["enableTestCommands"] is True)
    admin.command("configureFailPoint", "failCommand", mode={"times": 1},
                  data={"failCommands": ["find"], "errorCode": 2})
    try:
        db.orders.find_one({"_id": "o-1"})
        check("failpoint error", False)
    except OperationFailure as e:
        check("failpoint error", e.code == 2)
    check("failpoint used up", db.orders.find_one({"_id": "o-1"}) is not None)
    before = db.orders.count_documents({})
    admin.command("configureFailPoint", "failCommand", mode={"times": 1},
                  data={"failCommands": ["insert"], "closeConnection": True})
    db.orders.insert_one({"_id": "o-retry", "status": "pending"})
    check("retryable write after closed connection", db.orders.count_documents({}) == before + 1)
    admin.command("configureFailPoint", "failCommand", mode="off")

    # Wire compression: a client asking for zlib/zstd/snappy gets it and works as before.
    for compressor in ("zlib", "zstd", "snappy"):
        try:
            cc = pymongo.MongoClient(uri, compressors=compressor, serverSelectionTimeoutMS=5000)
            n = cc.shop.orders.count_documents({})
            check("compressed round trip " + compressor, n == db.orders.count_documents({}))
            cc.close()
        except pymongo.errors.ConfigurationError:
            pass  # this PyMongo build lacks the compressor's Python module

    check("list_collections", sorted(db.list_collection_names()) == ["customers", "inventory", "orders"])
    db.drop_collection("customers")
    check("drop", "customers" not in db.list_collection_names())

    # writeConcern j:false acknowledges before the fsync; the write is visible at once.
    from pymongo import WriteConcern
    fast = db.get_collection("orders", write_concern=WriteConcern(w=1, j=False))
    fast.insert_one({"_id": "jfalse", "x": 1})
    fast.update_one({"_id": "jfalse"}, {"$inc": {"x": 1}})
    check("j:false writes are visible at once", db.orders.find_one({"_id": "jfalse"}) == {"_id": "jfalse", "x": 2})
    for bad, code in (({"w": -1}, 9), ({"j": "yes"}, 14), ("majority", 14)):
        try:
            db.command("insert", "orders", documents=[{"_id": "bad-wc"}], writeConcern=bad)
            check("invalid writeConcern %r is refused" % (bad,), False)
        except OperationFailure as e:
            check("invalid writeConcern %r is refused with %d" % (bad, code), e.code == code, e)
    check("nothing written by refused commands", db.orders.find_one({"_id": "bad-wc"}) is None)


def database_sizes(uri):
    """listDatabases reports each database's size from RocksDB's estimates (documents and
    indexes), not a constant, and totalSize is their sum."""
    c = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    c.drop_database("sizes_big")
    c.drop_database("sizes_small")
    c.sizes_small.t.insert_one({"_id": 1})
    # Incompressible: once flushed, a compressible pad shrinks on disk (and so does its size).
    import os
    from bson.binary import Binary
    pad = Binary(os.urandom(1000))
    c.sizes_big.t.create_index("k")
    for i in range(0, 4000, 1000):
        c.sizes_big.t.insert_many([{"_id": k, "k": k, "pad": pad} for k in range(i, i + 1000)])
    r = c.admin.command("listDatabases")
    by_name = {d["name"]: d["sizeOnDisk"] for d in r["databases"]}
    # RocksDB's estimate of a memtable's share is rough (seen: 1.7 MB for these 4 MB).
    check("listDatabases: a 4 MB database reports megabytes",
          by_name.get("sizes_big", 0) > 1_000_000, by_name)
    check("listDatabases: a one-document database reports less",
          0 < by_name.get("sizes_small", 0) < by_name.get("sizes_big", 0), by_name)
    check("listDatabases: totalSize is the sum", r["totalSize"] == sum(by_name.values()), r)
    only = c.admin.command("listDatabases", filter={"sizeOnDisk": {"$gt": 1_000_000}})
    check("listDatabases: filter on sizeOnDisk",
          "sizes_big" in [d["name"] for d in only["databases"]]
          and "sizes_small" not in [d["name"] for d in only["databases"]], only)
    # dbStats / collStats / $collStats: exact counts and data sizes, estimated storage.
    st = c.sizes_big.command("dbStats")
    check("dbStats: objects, collections, indexes", (st["objects"], st["collections"], st["indexes"]) == (4000, 1, 2), st)
    check("dbStats: dataSize is the documents' BSON", 4_000_000 < st["dataSize"] < 4_400_000, st)
    k = c.sizes_big.command("dbStats", scale=1024)
    check("dbStats: scale", k["scaleFactor"] == 1024 and k["dataSize"] == st["dataSize"] // 1024, k)
    cs = c.sizes_big.command("collStats", "t")
    check("collStats: count, nindexes, indexSizes", (cs["count"], cs["nindexes"], sorted(cs["indexSizes"])) == (4000, 2, ["_id_", "k_1"]), cs)
    agg = list(c.sizes_big.t.aggregate([{"$collStats": {"storageStats": {}, "count": {}}}]))
    check("$collStats: storageStats and count", len(agg) == 1 and agg[0]["count"] == 4000
          and agg[0]["storageStats"]["count"] == 4000 and agg[0]["ns"] == "sizes_big.t", agg)
    for bad, code in (({"$collStats": {"bogus": {}}}, 40415), ({"$collStats": {"latencyStats": {}}}, 238)):
        try:
            list(c.sizes_big.t.aggregate([bad]))
            check("$collStats %r is refused" % bad, False)
        except OperationFailure as e:
            check("$collStats %r is refused with %d" % (bad, code), e.code == code, e)
    try:
        list(c.sizes_big.missing.aggregate([{"$collStats": {"storageStats": {}}}]))
        check("$collStats on a missing collection fails", False)
    except OperationFailure as e:
        check("$collStats on a missing collection fails with 26", e.code == 26, e)
    try:
        c.sizes_big.command("dbStats", scale=0)
        check("dbStats scale 0 is refused", False)
    except OperationFailure as e:
        check("dbStats scale 0 is refused with 51024", e.code == 51024, e)
    c.drop_database("sizes_big")
    c.drop_database("sizes_small")


def unjournaled_inserts(uri):
    """Small j:false and w:0 inserts run on the server's I/O thread when its write pipeline is
    idle and are submitted to it when it is busy: with writers of every kind at once, every insert
    lands exactly once, each gives one change event, and errors still come back."""
    c = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000, maxPoolSize=32)
    coll = c.shop.unjournaled
    coll.drop()
    coll.insert_one({"_id": "first"})
    stream = coll.watch(max_await_time_ms=200)
    kinds = {"nojournal": {"w": 1, "j": False}, "durable": {"w": 1, "j": True},
             "unacknowledged": {"w": 0}}
    per_thread, threads, errors = 150, [], []

    def writer(kind, t):
        try:
            wc = pymongo.WriteConcern(**kinds[kind])
            target = coll.with_options(write_concern=wc)
            for i in range(per_thread):
                if i % 10 == 9:
                    target.insert_many([{"_id": "%s-%d-%d-%d" % (kind, t, i, k)} for k in range(3)])
                else:
                    target.insert_one({"_id": "%s-%d-%d" % (kind, t, i)})
        except Exception as e:  # reported below
            errors.append(repr(e))

    for kind in kinds:
        for t in range(3):
            threads.append(threading.Thread(target=writer, args=(kind, t)))
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    check("unjournaled: no writer failed", not errors, errors[:3])
    expected = 1 + len(threads) * (per_thread + 2 * (per_thread // 10))
    import time
    deadline = time.time() + 10
    while coll.count_documents({}) < expected and time.time() < deadline:
        time.sleep(0.05)  # w:0 inserts are acknowledged by nobody
    check("unjournaled: every insert landed once", coll.count_documents({}) == expected,
          (coll.count_documents({}), expected))
    seen, dups = set(), 0
    deadline = time.time() + 20
    while len(seen) < expected - 1 and time.time() < deadline:
        ev = stream.try_next()
        if ev is None:
            continue
        key = ev["documentKey"]["_id"]
        dups += key in seen
        seen.add(key)
    stream.close()
    st = c.admin.command("serverStatus")["eddy"]
    print("unjournaled: %d inserts ran on the I/O thread, %d found the engine busy and were submitted"
          % (st["writesOnIoThread"], st["inlineWritesRefusedBusy"]))
    check("unjournaled: small j:false inserts ran on the I/O thread", st["writesOnIoThread"] > 0, st)
    check("unjournaled: one change event per insert", len(seen) == expected - 1 and dups == 0,
          (len(seen), expected - 1, dups))
    fast = coll.with_options(write_concern=pymongo.WriteConcern(w=1, j=False))
    try:
        fast.insert_one({"_id": "first"})
        check("unjournaled: duplicate _id is refused", False)
    except DuplicateKeyError as e:
        check("unjournaled: duplicate _id is refused with 11000", e.code == 11000, e)
    coll.drop()


def main():
    eddy = sys.argv[1]
    with EddyServer(eddy, ["--enable-test-commands"]) as server:
        try:
            run(server.uri)
        except Exception:
            traceback.print_exc()
            results.append(("exception", False))
        try:
            unjournaled_inserts(server.uri)
        except Exception:
            traceback.print_exc()
            results.append(("unjournaled_inserts exception", False))
        try:
            database_sizes(server.uri)
        except Exception:
            traceback.print_exc()
            results.append(("database_sizes exception", False))
        # Error extra fields, validators, views, sessions (tests/drivers/conformance_test.py).
        try:
            conformance_test.run(server.uri, check)
        except Exception:
            traceback.print_exc()
            results.append(("conformance exception", False))
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("pymongo: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
