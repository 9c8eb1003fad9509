#!/usr/bin/env python3
"""Wire-level figures for `eddy serve` with PyMongo over loopback:
  - insert_one round trips/s from one client (durable: fsync per group commit),
  - insert_many docs/s (1000 ~200-byte documents per call) from N client threads,
  - indexed find_one latency p50/p99.
Usage: bench/wire_bench.py path/to/eddy [--seconds S] [--threads N]"""
import argparse
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "drivers"))
import pymongo  # noqa: E402
from eddy_server import EddyServer  # noqa: E402


def order(n):
    return {"order_no": n, "customer_id": "cust-%d" % (n % 5000), "status": "pending",
            "region": "r%d" % (n % 100), "total_amount": 10.0 + n % 1000,
            "items": [{"product_id": "sku-%d" % (n % 997), "quantity": 1 + n % 5}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("eddy")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--threads", type=int, default=16)
    a = ap.parse_args()
    with EddyServer(a.eddy) as server:
        client = pymongo.MongoClient(server.uri, maxPoolSize=a.threads + 4)
        coll = client.bench.orders
        coll.create_index("customer_id")
        # 1. insert_one round trips, one client.
        n, t0 = 0, time.time()
        while time.time() - t0 < a.seconds:
            coll.insert_one(order(n))
            n += 1
        print("insert_one, 1 client: %.0f ops/s" % (n / (time.time() - t0)))
        # 2. insert_many from N threads.
        counter = [0]
        lock = threading.Lock()
        stop = time.time() + a.seconds

        def writer(tid):
            k = 0
            while time.time() < stop:
                base = (tid + 1) * 10_000_000 + k * 1000
                coll.insert_many([order(base + i) for i in range(1000)], ordered=False)
                k += 1
                with lock:
                    counter[0] += 1000
        threads = [threading.Thread(target=writer, args=(i,)) for i in range(a.threads)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("insert_many (1000/call), %d clients: %.0f docs/s" % (a.threads, counter[0] / (time.time() - t0)))
        # 3. indexed find latency.
        lat = []
        t0 = time.time()
        i = 0
        while time.time() - t0 < a.seconds:
            s = time.perf_counter()
            coll.find_one({"customer_id": "cust-%d" % (i % 5000)})
            lat.append((time.perf_counter() - s) * 1e6)
            i += 1
        lat.sort()
        print("find_one by indexed field: p50 %.0f us, p99 %.0f us (%d queries, %d docs)" % (
            lat[len(lat) // 2], lat[len(lat) * 99 // 100], len(lat), coll.estimated_document_count()))


if __name__ == "__main__":
    main()
