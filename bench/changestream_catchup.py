#!/usr/bin/env python3
"""Change-stream catch-up: a watcher resuming from before a backlog of N committed events reads
them all (issue #5: 1,000,000 backlog events, target under 2 s).

  bench/changestream_catchup.py --eddy build/tools/eddy/eddy [--events 1000000] [--runs 3]
                                [--client pymongo|mongoc]

Starts its own `eddy serve --sync off` on a free port with a fresh data directory, takes the
resume token of an empty collection stream, writes N documents with insert_many, then (--runs
times) resumes a collection change stream from that token and reads the whole backlog with raw
getMores (no batchSize: replies of at most --change-stream-reply-kb, 60 KiB by default) decoded
only as far as PyMongo's RawBSONDocument needs.
Prints, per run and as the median: events/s, the server's CPU time per event (utime+stime
from /proc/<pid>/stat over the read) and the client's CPU time (this process, over the read)."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
import pymongo

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "drivers"))
from eddy_server import EddyServer  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
RAW = CodecOptions(document_class=RawBSONDocument)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def make_doc(i):
    return {"_id": i, "name": "user-%08d" % i, "n": i, "region": "r%02d" % (i % 100),
            "tags": ["a", "b", "c"], "payload": "x" * 100}


def read_backlog(db, token, expected):
    """Resumes after `token` and reads `expected` events; returns (events, last event _id)."""
    reply = db.command({"aggregate": "c", "pipeline": [{"$changeStream": {"resumeAfter": token}}],
                        "cursor": {"batchSize": 0}}, codec_options=RAW)
    cursor = reply["cursor"]
    cid = cursor["id"]
    seen = 0
    last = None
    while seen < expected:
        reply = db.command({"getMore": cid, "collection": "c", "maxTimeMS": 1000},
                           codec_options=RAW)
        batch = reply["cursor"]["nextBatch"]
        if len(batch) == 0:
            raise RuntimeError("stream stalled after %d of %d events" % (seen, expected))
        seen += len(batch)
        last = batch[-1]
    db.command({"killCursors": "c", "cursors": [cid]})
    return seen, last


MONGOC_CLIENT = r"""
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double Now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double Cpu(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* usage: client URI DB COLL TOKEN_JSON EXPECTED -> "events seconds cpu_seconds last_id" */
int main(int argc, char** argv) {
  if (argc != 6) return 2;
  mongoc_init();
  bson_error_t error;
  mongoc_client_t* client = mongoc_client_new(argv[1]);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, argv[2], argv[3]);
  bson_t* token = bson_new_from_json((const uint8_t*)argv[4], -1, &error);
  if (!client || !token) {
    fprintf(stderr, "bad uri or token: %s\n", error.message);
    return 1;
  }
  long expected = atol(argv[5]);
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_DOCUMENT(&opts, "resumeAfter", token);
  BSON_APPEND_INT32(&opts, "maxAwaitTimeMS", 1000);
  bson_t pipeline = BSON_INITIALIZER;
  double t0 = Now(), c0 = Cpu();
  mongoc_change_stream_t* cs = mongoc_collection_watch(coll, &pipeline, &opts);
  const bson_t* event;
  const bson_t* error_doc;
  long seen = 0;
  int64_t last_id = -1;
  while (seen < expected) {
    if (mongoc_change_stream_next(cs, &event)) {
      if (++seen == expected) {
        bson_iter_t it;
        if (bson_iter_init(&it, event) && bson_iter_find_descendant(&it, "documentKey._id", &it)) {
          last_id = bson_iter_as_int64(&it);
        }
      }
    } else if (mongoc_change_stream_error_document(cs, &error, &error_doc)) {
      fprintf(stderr, "change stream error after %ld events: %s\n", seen, error.message);
      return 1;
    } else {
      fprintf(stderr, "stream stalled after %ld of %ld events\n", seen, expected);
      return 1;
    }
  }
  double wall = Now() - t0, cpu = Cpu() - c0;
  printf("%ld %.6f %.6f %lld\n", seen, wall, cpu, (long long)last_id);
  mongoc_change_stream_destroy(cs);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  bson_destroy(token);
  mongoc_cleanup();
  return 0;
}
"""


def build_mongoc_client(workdir):
    src = os.path.join(workdir, "catchup_client.c")
    exe = os.path.join(workdir, "catchup_client")
    with open(src, "w") as f:
        f.write(MONGOC_CLIENT)
    flags = subprocess.check_output(["pkg-config", "--cflags", "--libs", "libmongoc-1.0"],
                                    text=True).split()
    subprocess.check_call(["cc", "-O2", "-o", exe, src] + flags)
    return exe


def read_backlog_mongoc(exe, uri, token, expected):
    """The same read through libmongoc's change stream; returns (events, wall s, client CPU s,
    last documentKey._id)."""
    out = subprocess.check_output([exe, uri, "bench", "c", json.dumps(token), str(expected)],
                                  text=True)
    seen, wall, cpu, last_id = out.split()
    return int(seen), float(wall), float(cpu), int(last_id)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eddy", required=True, help="path to the eddy binary")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--client", choices=["pymongo", "mongoc"], default="pymongo",
                    help="who reads the backlog (see above)")
    ap.add_argument("--pause", action="store_true",
                    help="print the server PID and wait for Enter before reading (for perf)")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="eddy-catchup-")
    try:
        mongoc_client = build_mongoc_client(workdir) if args.client == "mongoc" else None
        run(args, mongoc_client)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args, mongoc_client):
    with EddyServer(os.path.abspath(args.eddy), ["--sync", "off"]) as server:
        client = pymongo.MongoClient(server.uri, directConnection=True)
        db = client.bench
        db.create_collection("c")
        reply = db.command({"aggregate": "c", "pipeline": [{"$changeStream": {}}],
                            "cursor": {"batchSize": 0}})
        token = reply["cursor"]["postBatchResumeToken"]
        db.command({"killCursors": "c", "cursors": [reply["cursor"]["id"]]})

        t0 = time.time()
        chunk = 10_000
        for start in range(0, args.events, chunk):
            db.c.insert_many([make_doc(i) for i in range(start, min(args.events, start + chunk))],
                             ordered=True)
        print("wrote %d events in %.1f s" % (args.events, time.time() - t0), flush=True)
        if args.pause:
            input("server pid %d: press Enter to read " % server.proc.pid)

        rates, cpus, walls, client_cpus = [], [], [], []
        for run in range(args.runs):
            cpu0 = cpu_seconds(server.proc.pid)
            if mongoc_client:
                seen, wall, client_cpu, last_id = read_backlog_mongoc(
                    mongoc_client, server.uri, {"_data": token["_data"]}, args.events)
            else:
                client0 = time.process_time()
                t0 = time.perf_counter()
                seen, last = read_backlog(db, token, args.events)
                wall = time.perf_counter() - t0
                client_cpu = time.process_time() - client0
                last_id = last["documentKey"]["_id"]
            cpu = cpu_seconds(server.proc.pid) - cpu0
            if seen != args.events:
                raise RuntimeError("read %d events, expected %d" % (seen, args.events))
            if last_id != args.events - 1:
                raise RuntimeError("last event is for _id %r" % last_id)
            rates.append(seen / wall)
            cpus.append(cpu * 1e6 / seen)
            walls.append(wall)
            client_cpus.append(client_cpu)
            print("run %d: %d events in %.2f s = %.0f events/s, server CPU %.2f s = %.2f us/event, "
                  "client CPU %.2f s" % (run + 1, seen, wall, seen / wall, cpu, cpu * 1e6 / seen,
                                         client_cpu), flush=True)
        print("median: %.2f s, %.0f events/s, server CPU %.2f us/event, client CPU %.2f s"
              % (statistics.median(walls), statistics.median(rates), statistics.median(cpus),
                 statistics.median(client_cpus)))


if __name__ == "__main__":
    main()
