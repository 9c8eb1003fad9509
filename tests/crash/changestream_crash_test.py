#!/usr/bin/env python3
"""Change streams survive kill -9: a PyMongo writer inserts and updates continuously while a
PyMongo change stream watches; eddy is killed with SIGKILL twice and restarted on the same port
and data. The writer retries until each write is acknowledged; the watcher keeps going (the
driver resumes by itself, or the app re-opens from its last token while the server is down).
In the end the watcher must have received every acknowledged write exactly once, in commit
order: no gaps, no duplicates."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pymongo
from pymongo.errors import DuplicateKeyError, PyMongoError


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, eddy, port, data):
        self.eddy, self.port, self.data, self.proc = eddy, port, data, None

    def start(self):
        self.proc = subprocess.Popen([self.eddy, "serve", "--port", str(self.port), "--data", self.data],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if re.search(r"listening on", line or ""):
                threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
                return
            if not line and self.proc.poll() is not None:
                break
        raise RuntimeError("eddy serve did not start")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main():
    eddy = sys.argv[1]
    data = tempfile.mkdtemp(prefix="eddy-cs-crash-")
    port = free_port()
    server = Server(eddy, port, data)
    server.start()
    uri = "mongodb://127.0.0.1:%d/?replicaSet=rs0&serverSelectionTimeoutMS=1000" % port
    expected = []   # (op, _id) of acknowledged writes, in the order they were acknowledged
    received = []
    stop = threading.Event()
    writer_stop = threading.Event()

    def writer():
        c = pymongo.MongoClient(uri)
        coll = c.crash.events
        i = 0
        while not writer_stop.is_set():
            i += 1
            for op in ("insert", "update"):
                while True:
                    try:
                        if op == "insert":
                            coll.insert_one({"_id": i, "v": 0})
                        else:
                            # Idempotent: a retry after an unacknowledged success changes nothing
                            # and so produces no second event.
                            coll.update_one({"_id": i}, {"$set": {"v": 1}})
                        break
                    except DuplicateKeyError:
                        break  # the first attempt committed before the crash
                    except PyMongoError:
                        time.sleep(0.05)
                expected.append((op, i))
        c.close()

    def watcher():
        c = pymongo.MongoClient(uri)
        coll = c.crash.events
        token = None
        while not stop.is_set():
            try:
                with coll.watch(resume_after=token, max_await_time_ms=200) as s:
                    while not stop.is_set():
                        e = s.try_next()
                        if e is not None:
                            received.append((e["operationType"], e["documentKey"]["_id"]))
                        token = s.resume_token  # also advances on empty batches
            except PyMongoError:
                time.sleep(0.05)  # server down: re-open from our last token
        c.close()

    # The stream exists before the first write (it starts at "now").
    w = threading.Thread(target=watcher)
    w.start()
    time.sleep(1.0)
    wr = threading.Thread(target=writer)
    wr.start()
    try:
        for round_ in (1, 2):
            time.sleep(1.5)
            n = len(expected)
            server.kill9()
            print("round %d: killed eddy after %d acknowledged writes" % (round_, n), flush=True)
            time.sleep(0.3)
            server.start()
        time.sleep(1.0)
        writer_stop.set()
        wr.join(240)
        deadline = time.time() + 60
        while len(received) < len(expected) and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # anything extra would show up now
    finally:
        stop.set()
        w.join(30)
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    ok = True
    if wr.is_alive():
        print("FAIL writer did not finish")
        ok = False
    if received != expected:
        ok = False
        first = next((k for k in range(min(len(received), len(expected)))
                      if received[k] != expected[k]), min(len(received), len(expected)))
        print("FAIL watcher saw %d events, %d writes acknowledged; first difference at %d: got %s, want %s"
              % (len(received), len(expected), first, received[first:first + 3], expected[first:first + 3]))
    print("changestream crash: %d acknowledged writes, %d events received, %s"
          % (len(expected), len(received), "exactly once, in order" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
