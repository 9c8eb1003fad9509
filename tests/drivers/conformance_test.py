#!/usr/bin/env python3
"""MongoDB-conformance details through PyMongo against a real `eddy serve`: duplicate-key
keyPattern/keyValue, validator errInfo, the session cache and $listLocalSessions, views,
$out/$merge under readConcern linearizable. Run by pymongo_test.py (drivers.pymongo) or alone:
conformance_test.py path/to/eddy."""
import sys
import traceback
import uuid

import pymongo
from bson.binary import Binary
from pymongo.errors import DuplicateKeyError, OperationFailure, WriteError
from pymongo.read_concern import ReadConcern


def _uuid_bytes(v):
    """A session id as 16 bytes, whether PyMongo decoded it as uuid.UUID or Binary."""
    return v.bytes if isinstance(v, uuid.UUID) else bytes(v)


def run(uri, check):
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    db = client.conformance
    client.drop_database("conformance")

    # --- duplicate keys: keyPattern/keyValue on every path ---
    db.items.create_index("sku", unique=True)
    db.items.insert_one({"_id": 1, "sku": "A"})
    try:
        db.items.insert_one({"_id": 2, "sku": "A"})
        check("dup insert raises", False)
    except DuplicateKeyError as e:
        check("dup insert keyPattern/keyValue",
              e.details.get("keyPattern") == {"sku": 1} and e.details.get("keyValue") == {"sku": "A"}, e.details)
    try:
        db.items.find_one_and_update({"_id": 3}, {"$set": {"sku": "A"}}, upsert=True)
        check("dup findAndModify raises", False)
    except DuplicateKeyError as e:
        check("dup findAndModify keyValue", e.details.get("keyValue") == {"sku": "A"}, e.details)
    try:
        db.aggregate([{"$documents": [{"_id": 1}]}, {"$merge": {"into": "items", "whenMatched": "fail"}}])
        check("dup $merge raises", False)
    except OperationFailure as e:
        check("dup $merge keyPattern", e.code == 11000 and e.details.get("keyPattern") == {"_id": 1}, e.details)

    # --- validators ---
    db.create_collection("people", validator={"$jsonSchema": {
        "bsonType": "object", "required": ["name"],
        "properties": {"name": {"bsonType": "string", "minLength": 1},
                       "age": {"bsonType": "int", "minimum": 0, "maximum": 150}}}})
    db.people.insert_one({"_id": 1, "name": "Ada", "age": 36})
    try:
        db.people.insert_one({"_id": 2, "age": 200})
        check("validator rejects", False)
    except WriteError as e:
        info = e.details.get("errInfo", {})
        rules = str(info.get("details"))
        check("validator errInfo", e.code == 121 and info.get("failingDocumentId") == 2
              and "required" in rules and "maximum" in rules, e.details)
    db.people.insert_one({"_id": 2, "age": 200}, bypass_document_validation=True)
    check("bypassDocumentValidation", db.people.count_documents({}) == 2)
    try:
        db.people.update_one({"_id": 1}, {"$set": {"age": -1}})
        check("validator rejects update", False)
    except WriteError as e:
        check("update errInfo", e.code == 121 and e.details["errInfo"]["failingDocumentId"] == 1, e.details)
    db.command("collMod", "people", validationAction="warn")
    db.people.update_one({"_id": 1}, {"$set": {"age": -1}})
    check("validationAction warn lets writes through", db.people.find_one({"_id": 1})["age"] == -1)
    info = db.command("listCollections", filter={"name": "people"})["cursor"]["firstBatch"][0]
    check("listCollections shows the validator", "$jsonSchema" in info["options"]["validator"]
          and info["options"].get("validationAction") == "warn", info)

    # --- views ---
    db.orders.insert_many([{"_id": i, "status": "paid" if i % 2 else "new", "total": i * 10} for i in range(1, 7)])
    db.command("create", "paid", viewOn="orders", pipeline=[{"$match": {"status": "paid"}}])
    db.command("create", "big_paid", viewOn="paid", pipeline=[{"$match": {"total": {"$gte": 30}}}])
    check("find on a view", [d["_id"] for d in db.paid.find().sort("_id", 1)] == [1, 3, 5])
    check("view on a view", [d["_id"] for d in db.big_paid.find({}, {"_id": 1})] == [3, 5])
    check("count_documents on a view", db.big_paid.count_documents({}) == 2)
    check("estimated_document_count on a view", db.paid.estimated_document_count() == 3)
    check("distinct on a view", sorted(db.paid.distinct("total")) == [10, 30, 50])
    agg = list(db.paid.aggregate([{"$group": {"_id": None, "sum": {"$sum": "$total"}}}]))
    check("aggregate on a view", agg == [{"_id": None, "sum": 90}], agg)
    views = {c["name"]: c for c in db.list_collections(filter={"type": "view"})}
    check("listCollections type view", set(views) == {"paid", "big_paid"}
          and views["paid"]["options"] == {"viewOn": "orders", "pipeline": [{"$match": {"status": "paid"}}]}
          and views["paid"]["info"] == {"readOnly": True}, views)
    try:
        db.paid.insert_one({"x": 1})
        check("insert into a view raises", False)
    except OperationFailure as e:
        check("insert into a view: 166", e.code == 166, e.details)
    try:
        db.paid.create_index("x")
        check("createIndex on a view raises", False)
    except OperationFailure as e:
        check("createIndex on a view: 166", e.code == 166, e.details)
    try:
        db.paid.watch()
        check("watch a view raises", False)
    except OperationFailure as e:
        check("watch a view: 166", e.code == 166, e.details)
    try:
        db.command("collMod", "orders_loop", viewOn="x")
    except OperationFailure as e:
        check("collMod of a missing namespace: 26", e.code == 26, e.details)
    try:
        db.command("collMod", "paid", viewOn="big_paid", pipeline=[])
        check("view cycle raises", False)
    except OperationFailure as e:
        check("view cycle: 5 GraphContainsCycle", e.code == 5, e.details)
    db.command("collMod", "paid", viewOn="orders", pipeline=[{"$match": {"status": "new"}}])
    check("collMod changes the view", [d["_id"] for d in db.paid.find().sort("_id", 1)] == [2, 4, 6])
    db.drop_collection("big_paid")
    check("drop a view", "big_paid" not in db.list_collection_names())

    # --- sessions ---
    with client.start_session() as s:
        db.orders.find_one({}, session=s)
        sid = s.session_id["id"]
        sid_bytes = _uuid_bytes(sid)
        listed = list(client.admin.aggregate([{"$listLocalSessions": {}}]))
        check("$listLocalSessions lists the session", any(_uuid_bytes(d["_id"]["id"]) == sid_bytes for d in listed), listed)
        check("session documents have uid and lastUse",
              all("uid" in d["_id"] and "lastUse" in d for d in listed), listed)
        other = list(db.aggregate([{"$listLocalSessions": {"allUsers": True}}, {"$count": "n"}]))
        check("$listLocalSessions on another database", other and other[0]["n"] >= 1, other)
    # A server-started session (not in PyMongo's pool, which would reuse and so re-register
    # its own ids, as mongod also does) is gone once ended.
    started = client.admin.command("startSession")["id"]
    started_bytes = _uuid_bytes(started["id"])
    listed = list(client.admin.aggregate([{"$listLocalSessions": {}}]))
    check("startSession registers", any(_uuid_bytes(d["_id"]["id"]) == started_bytes for d in listed), listed)
    # (PyMongo 3 decodes the UUID and would re-encode it as legacy subtype 3: send subtype 4.)
    client.admin.command("endSessions", [{"id": Binary(started_bytes, 4)}])
    listed = list(client.admin.aggregate([{"$listLocalSessions": {}}]))
    check("endSessions removes the session", not any(_uuid_bytes(d["_id"]["id"]) == started_bytes for d in listed), listed)
    client.admin.command("killAllSessions", [])
    listed = list(client.admin.aggregate([{"$listLocalSessions": {}}, {"$count": "n"}]))
    check("killAllSessions removes every session (the aggregate's own registers again)",
          listed == [{"n": 1}], listed)

    # --- linearizable reads refuse $out/$merge ---
    lin = db.get_collection("orders", read_concern=ReadConcern("linearizable"))
    try:
        list(lin.aggregate([{"$out": "copy"}]))
        check("$out under linearizable raises", False)
    except OperationFailure as e:
        check("$out under linearizable: 72 InvalidOptions", e.code == 72, e.details)
    client.drop_database("conformance")
    client.close()


def main():
    from eddy_server import EddyServer
    results = []

    def check(name, cond, detail=""):
        results.append((name, bool(cond)))
        if not cond:
            print("FAIL %s %s" % (name, detail))

    with EddyServer(sys.argv[1], ["--enable-test-commands"]) as server:
        try:
            run(server.uri, check)
        except Exception:
            traceback.print_exc()
            results.append(("exception", False))
    passed = sum(1 for _, ok in results if ok)
    print("conformance: %d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
