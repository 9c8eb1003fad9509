"""The $changeStream pipelines that change-stream DDL stores (eddy.streams, eddy.event_stores,
eddy.sagas) open on a live eddy and deliver exactly the events their definitions describe.

Usage: ddl_pipelines.py EDDY_BINARY
"""
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers"))
from eddy_server import EddyServer
import pymongo
eddy = sys.argv[1]
with EddyServer(eddy, ["--sync", "off"]) as s:
    def sql(q):
        p = subprocess.run([eddy, "sql", "--uri", s.uri, "--db", "shop", "-c", q], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    sql("CREATE COLLECTION orders")
    sql("CREATE COLLECTION users")
    sql("CREATE HANDLER h AS LOG")
    sql("CREATE CHANGE STREAM big ON orders WATCH FOR (INSERT) WHERE total_amount > 1000 WITH OPTIONS (full_document = 'updateLookup') PROCESS WITH h")
    sql("CREATE EVENT STORE ev FROM CHANGE STREAM orders.* WITH EVENT_MAPPING (event_type = CONCAT('Order.', TITLE_CASE(operationType)), aggregate_id = documentKey._id, amount = total_amount)")
    sql("CREATE DISTRIBUTED SAGA sg TRIGGERED BY orders.insert WHERE fullDocument.status = 'pending' WITH STEPS ({service: 'pay', action: 'charge', input: {id: NEW.documentKey._id}})")
    c = pymongo.MongoClient(s.uri)
    results = {}
    cursors = {}
    for coll, name in (("streams", "big"), ("event_stores", "ev"), ("sagas", "sg")):
        pipe = c.eddy[coll].find_one({"_id": name})["pipeline"]
        cursors[name] = c.shop.command("aggregate", "orders", pipeline=pipe, cursor={})["cursor"]["id"]
    c.shop.orders.insert_many([{"_id": 1, "total_amount": 500, "status": "pending"}, {"_id": 2, "total_amount": 2500, "status": "done"}])
    got = {}
    for name, cid in cursors.items():
        r = c.shop.command("getMore", cid, collection="orders", maxTimeMS=1000)
        got[name] = r["cursor"]["nextBatch"]
    assert [e["documentKey"] for e in got["big"]] == [{"_id": 2}], got["big"]
    assert got["big"][0]["fullDocument"]["total_amount"] == 2500
    ev = [{k: v for k, v in e.items() if k != "_id"} for e in got["ev"]]
    assert ev == [{"event_type": "Order.Insert", "aggregate_id": 1, "amount": 500},
                  {"event_type": "Order.Insert", "aggregate_id": 2, "amount": 2500}], ev
    assert all("_data" in e["_id"] for e in got["ev"]), "the event store keeps the resume token"
    assert [e["documentKey"] for e in got["sg"]] == [{"_id": 1}], got["sg"]
    print("stored pipelines of a change stream, an event store and a saga open and filter as defined")
