#!/usr/bin/env python3
"""Change-stream fan-out: 1 writer and W watchers (W = 1,000 and 10,000 by default), each
watching the same collection with a $match on one of 100 regions, so every event matches 1% of
the watchers. Each watcher is its own connection with a getMore always parked on the server
(maxTimeMS 60 s), as drivers do. Reports the server's CPU time per written event and per
delivered event (from /proc/<pid>/stat, over the write + delivery phase), delivered events/s and
the server's resident memory.

  bench/changestream_fanout.py --eddy build/tools/eddy/eddy [--watchers 1000,10000] [--events N]

Starts its own `eddy serve --sync off` (the write path is not what is measured) on a free port.
The watchers are a small asyncio OP_MSG client (PyMongo's bson for encoding): PyMongo itself
cannot hold 10,000 concurrent getMores."""
import argparse
import asyncio
import os
import struct
import sys
import time

import bson
import pymongo
from bson.int64 import Int64

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "drivers"))
from eddy_server import EddyServer  # noqa: E402

OP_MSG = 2013
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


class Conn:
    def __init__(self, reader, writer):
        self.r, self.w, self.req = reader, writer, 0

    async def command(self, doc):
        self.req += 1
        body = b"\x00\x00\x00\x00\x00" + bson.encode(doc)
        self.w.write(struct.pack("<iiii", 16 + len(body), self.req, 0, OP_MSG) + body)
        header = await self.r.readexactly(16)
        length = struct.unpack("<i", header[:4])[0]
        payload = await self.r.readexactly(length - 16)
        reply = bson.decode(payload[5:])
        if reply.get("ok") != 1:
            raise RuntimeError("command failed: %s" % reply)
        return reply


async def run_round(port, server_pid, watchers, events, uri):
    conns = []
    for i in range(0, watchers, 500):  # open in waves: don't flood the accept queue
        opened = await asyncio.gather(*[asyncio.open_connection("127.0.0.1", port)
                                        for _ in range(min(500, watchers - i))])
        conns += [Conn(r, w) for r, w in opened]
    cursors = []
    for k, c in enumerate(conns):
        reply = await c.command({"aggregate": "t", "pipeline": [
            {"$changeStream": {}}, {"$match": {"fullDocument.region": "r%02d" % (k % 100)}}],
            "cursor": {}, "$db": "fan"})
        cursors.append(reply["cursor"]["id"])
    delivered = 0
    expected = events * watchers // 100
    done = asyncio.Event()

    async def watch(c, cid):
        nonlocal delivered
        while not done.is_set():
            reply = await c.command({"getMore": Int64(cid), "collection": "t", "maxTimeMS": 60000,
                                     "batchSize": 1000, "$db": "fan"})
            delivered += len(reply["cursor"]["nextBatch"])
            if delivered >= expected:
                done.set()

    tasks = [asyncio.ensure_future(watch(c, cid)) for c, cid in zip(conns, cursors)]
    await asyncio.sleep(2.0)  # every getMore is parked now
    rss_idle = rss_kb(server_pid)
    cpu0, t0 = cpu_seconds(server_pid), time.time()

    def write():
        client = pymongo.MongoClient(uri)
        coll = client.fan.t
        for b in range(0, events, 100):
            coll.insert_many([{"seq": s, "region": "r%02d" % (s % 100), "customer": "c%d" % s,
                               "total": s % 1000, "status": "new"} for s in range(b, b + 100)])
        client.close()

    await asyncio.get_event_loop().run_in_executor(None, write)
    if expected == 0:
        done.set()
    try:
        await asyncio.wait_for(done.wait(), timeout=300)
    except asyncio.TimeoutError:
        pass
    t1, cpu1 = time.time(), cpu_seconds(server_pid)
    for t in tasks:
        t.cancel()
    for c in conns:
        c.w.close()
    return {"watchers": watchers, "events": events, "delivered": delivered, "expected": expected,
            "seconds": t1 - t0, "cpu_s": cpu1 - cpu0, "rss_idle_kib": rss_idle}


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eddy", required=True)
    ap.add_argument("--watchers", default="0,1000,10000")
    ap.add_argument("--events", type=int, default=10000)
    args = ap.parse_args()
    print("watchers  events  delivered  seconds  delivered/s  server-CPU-us/event  server-CPU-us/delivery  RSS-MiB")
    for w in [int(x) for x in args.watchers.split(",")]:
        with EddyServer(args.eddy, ["--sync", "off"]) as server:
            r = asyncio.get_event_loop().run_until_complete(
                run_round(server.port, server.proc.pid, w, args.events, server.uri))
        per_event = r["cpu_s"] * 1e6 / r["events"]
        per_delivery = r["cpu_s"] * 1e6 / r["delivered"] if r["delivered"] else float("nan")
        print("%8d  %6d  %9d  %7.2f  %11.0f  %19.1f  %22.1f  %7.1f%s" % (
            w, r["events"], r["delivered"], r["seconds"], r["delivered"] / r["seconds"] if w else 0,
            per_event, per_delivery, r["rss_idle_kib"] / 1024.0,
            "" if r["delivered"] >= r["expected"] else "  (MISSING %d)" % (r["expected"] - r["delivered"])),
            flush=True)


if __name__ == "__main__":
    main()
