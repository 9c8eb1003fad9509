#!/usr/bin/env python3
"""Bad input against a real `eddy serve`: truncated frames, oversized frames (> 48 MB declared,
and actually sent), lying lengths, random bytes, invalid BSON inside OP_MSG, unknown opcodes,
bad flag bits and checksums, broken OP_COMPRESSED, unknown commands and fields, and thousands
of random mutations of valid frames (OP_MSG, OP_QUERY, OP_COMPRESSED).

Every probe runs on its own connection: the frame is sent, the write side is shut down, and the
server must answer with well-formed reply frames (error replies where the input was wrong) and
then close, or close at once, within a time limit (a hang fails). Between rounds a separate
PyMongo client must still work and the documents it stored before the fuzzing must be unchanged.
At the end the server process must still be the one that started (no crash).

Usage: wire_fuzz_test.py path/to/eddy [--mutations N] [--seed S]
Prints 'N passed, N failed' and exits non-zero on failure."""
import argparse
import os
import random
import socket
import struct
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers"))
import bson  # noqa: E402  (PyMongo's bson)
from bson.codec_options import CodecOptions  # noqa: E402
import pymongo  # noqa: E402
from eddy_server import EddyServer  # noqa: E402

OP_REPLY, OP_QUERY, OP_COMPRESSED, OP_MSG = 1, 2004, 2012, 2013
MAX_MESSAGE = 48_000_000
PROBE_TIMEOUT = 10.0  # seconds a probe may take before it counts as a hang

results = []
# Stored strings are returned as stored (mongod does not re-validate them), and fuzzed inserts
# may have stored any bytes, so reply documents are decoded leniently; error messages, which the
# server writes itself, are checked to be valid UTF-8 separately.
LENIENT = CodecOptions(unicode_decode_error_handler="surrogateescape")


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    if not cond:
        print("FAIL %s %s" % (name, str(detail)[:600]))


# --- frame builders ----------------------------------------------------------------------

def header(length, request_id, response_to, op_code):
    return struct.pack("<iiii", length, request_id, response_to, op_code)


def op_msg(doc, request_id=1, flags=0, sequences=(), raw_body=None):
    body = raw_body if raw_body is not None else bson.encode(doc)
    payload = struct.pack("<I", flags) + b"\x00" + body
    for ident, docs in sequences:
        seq = ident.encode() + b"\x00" + b"".join(bson.encode(d) for d in docs)
        payload += b"\x01" + struct.pack("<i", 4 + len(seq)) + seq
    return header(16 + len(payload), request_id, 0, OP_MSG) + payload


def op_query(coll, doc, request_id=1):
    payload = struct.pack("<i", 0) + coll.encode() + b"\x00" + struct.pack("<ii", 0, -1) + bson.encode(doc)
    return header(16 + len(payload), request_id, 0, OP_QUERY) + payload


def op_compressed(inner, compressor_id=2, request_id=1, lie_size=None):
    """Wraps a whole message (header included) in OP_COMPRESSED; compressor 2 is zlib, 0 noop."""
    original_op = struct.unpack_from("<i", inner, 12)[0]
    body = inner[16:]
    data = zlib.compress(body) if compressor_id == 2 else body
    size = len(body) if lie_size is None else lie_size
    payload = struct.pack("<iiB", original_op, size, compressor_id) + data
    return header(16 + len(payload), request_id, 0, OP_COMPRESSED) + payload


# --- the probe ------------------------------------------------------------------------------

class ProbeResult:
    def __init__(self):
        self.replies = []      # decoded reply documents
        self.closed = False    # the server closed the connection (EOF or reset)
        self.hang = False
        self.malformed = None  # why the bytes received were not reply frames


def parse_replies(data, res):
    pos = 0
    while pos < len(data):
        if len(data) - pos < 16:
            res.malformed = "trailing %d bytes" % (len(data) - pos)
            return
        length, _, _, op = struct.unpack_from("<iiii", data, pos)
        if length < 16 or pos + length > len(data):
            res.malformed = "reply length %d with %d bytes left" % (length, len(data) - pos)
            return
        frame = data[pos:pos + length]
        pos += length
        try:
            if op == OP_COMPRESSED:
                original_op, size, cid = struct.unpack_from("<iiB", frame, 16)
                raw = frame[25:]
                raw = zlib.decompress(raw) if cid == 2 else raw
                frame = header(16 + len(raw), 0, 0, original_op) + raw
                op = original_op
            if op == OP_MSG:
                if frame[20] != 0:
                    res.malformed = "OP_MSG reply without a body section first"
                    return
                res.replies.append(bson.decode(frame[21:21 + struct.unpack_from("<i", frame, 21)[0]], LENIENT))
            elif op == OP_REPLY:
                res.replies.append(bson.decode(frame[36:36 + struct.unpack_from("<i", frame, 36)[0]], LENIENT))
            else:
                res.malformed = "reply opcode %d" % op
                return
        except Exception as e:  # noqa: BLE001 - any decode problem is a finding
            res.malformed = "undecodable reply: %r" % e
            return


def probe(port, data, shut_write=True, timeout=PROBE_TIMEOUT, chunks=None):
    """Sends data on a new connection and reads until the server closes."""
    res = ProbeResult()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    received = b""
    try:
        try:
            if chunks:
                for c in chunks:
                    s.sendall(c)
                    time.sleep(0.001)
            else:
                s.sendall(data)
            if shut_write:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed while we were still sending (EPIPE, ECONNRESET, ENOTCONN)
        deadline = time.time() + timeout
        while True:
            s.settimeout(max(0.01, deadline - time.time()))
            try:
                b = s.recv(1 << 16)
            except socket.timeout:
                res.hang = True
                break
            except ConnectionResetError:
                res.closed = True
                break
            if not b:
                res.closed = True
                break
            received += b
    finally:
        s.close()
    parse_replies(received, res)
    return res


def utf8(s):
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:  # a surrogate-escaped byte: the server sent invalid UTF-8
        return False


def is_error_reply(doc):
    """{ok: 0, code, errmsg} (OP_MSG) or {ok: 0, code, $err} (OP_REPLY), message valid UTF-8."""
    msg = doc.get("errmsg", doc.get("$err"))
    return doc.get("ok") == 0 and isinstance(doc.get("code"), int) and isinstance(msg, str) and utf8(msg)


def expect_error_or_close(name, res, allow_ok=False):
    """The probe ended (no hang) with well-formed replies, each an error unless allow_ok."""
    ok = (not res.hang and res.closed and res.malformed is None
          and all((allow_ok and r.get("ok") == 1) or is_error_reply(r) for r in res.replies))
    check(name, ok, "hang=%s closed=%s malformed=%s replies=%r" % (res.hang, res.closed, res.malformed, res.replies[:3]))
    return ok


# --- rounds ---------------------------------------------------------------------------------

REFERENCE = [{"_id": i, "sku": "sku-%d" % i, "qty": i * 3, "tags": ["a", "b"][: i % 3],
              "nested": {"x": i, "s": "v" * (i % 40)}} for i in range(300)]


def verify_client(client, round_name):
    try:
        check(round_name + ": pymongo ping", client.admin.command("ping")["ok"] == 1)
        docs = list(client.keep.orders.find().sort("_id", 1))
        check(round_name + ": stored documents unchanged", docs == REFERENCE,
              "%d docs" % len(docs))
        r = client.keep.scratch.insert_one({"round": round_name})
        check(round_name + ": writes still work", client.keep.scratch.find_one({"_id": r.inserted_id}) is not None)
    except Exception as e:  # noqa: BLE001
        check(round_name + ": pymongo still works", False, repr(e))


def valid_frames():
    """Valid requests of every kind the server accepts, against the fuzz database only."""
    frames = [
        op_msg({"ping": 1, "$db": "admin"}),
        op_msg({"hello": 1, "$db": "admin"}),
        op_msg({"insert": "target", "documents": [{"_id": 1, "a": "x" * 20}, {"b": [1, 2, {"c": 3.5}]}], "$db": "fuzz"}),
        op_msg({"insert": "target", "$db": "fuzz"}, sequences=[("documents", [{"a": 1}, {"a": 2, "d": {"e": None}}])]),
        op_msg({"find": "target", "filter": {"a": {"$gte": 1}}, "sort": {"a": -1}, "limit": 5, "$db": "fuzz"}),
        op_msg({"update": "target", "updates": [{"q": {"a": 1}, "u": {"$inc": {"a": 1}, "$push": {"l": 1}}}], "$db": "fuzz"}),
        op_msg({"delete": "target", "deletes": [{"q": {"a": 2}, "limit": 1}], "$db": "fuzz"}),
        op_msg({"aggregate": "target", "pipeline": [{"$match": {"a": {"$exists": True}}}, {"$group": {"_id": "$a", "n": {"$sum": 1}}}],
                "cursor": {}, "$db": "fuzz"}),
        op_msg({"count": "target", "query": {"a": {"$in": [1, 2, 3]}}, "$db": "fuzz"}),
        op_msg({"findAndModify": "target", "query": {"a": 3}, "update": {"$set": {"z": 1}}, "upsert": True, "$db": "fuzz"}),
        op_msg({"listCollections": 1, "$db": "fuzz"}),
        op_query("admin.$cmd", {"isMaster": 1, "client": {"driver": {"name": "fuzz", "version": "1"}}}),
        op_query("admin.$cmd", {"$query": {"ping": 1}, "$readPreference": {"mode": "primary"}}),
    ]
    frames.append(op_compressed(op_msg({"find": "target", "filter": {}, "$db": "fuzz"})))
    frames.append(op_compressed(op_msg({"ping": 1, "$db": "admin"}), compressor_id=0))
    return frames


def mutate(rng, frame):
    data = bytearray(frame)
    kind = rng.randrange(8)
    n = rng.randint(1, 8)
    if kind == 0:  # bit flips
        for _ in range(n):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # random bytes
        for _ in range(n):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 2:  # interesting values at a random int32 position
        i = rng.randrange(max(1, len(data) - 4))
        v = rng.choice([0, -1, 1, 0x7FFFFFFF, -0x80000000, 16, 17, 4, 5, len(data), len(data) + 1, MAX_MESSAGE + 1])
        data[i:i + 4] = struct.pack("<i", v)
    elif kind == 3:  # truncate
        del data[rng.randrange(len(data)):]
    elif kind == 4:  # insert random bytes
        i = rng.randrange(len(data) + 1)
        data[i:i] = bytes(rng.randrange(256) for _ in range(n))
    elif kind == 5:  # delete a range
        i = rng.randrange(len(data))
        del data[i:i + n]
    elif kind == 6:  # duplicate a range
        i = rng.randrange(len(data))
        data[i:i] = data[i:i + rng.randint(1, 32)]
    else:  # BSON type byte or flag byte set to something odd
        i = rng.randrange(16, len(data)) if len(data) > 16 else 0
        data[i] = rng.choice([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0A, 0x11, 0x13, 0x7F, 0xFF, 0x80, 0x20])
    # Half the time keep the header's length truthful so the body is what gets fuzzed.
    if len(data) >= 4 and rng.random() < 0.5:
        data[0:4] = struct.pack("<i", len(data))
    return bytes(data)


def run(server, args):
    port = server.port
    client = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000)
    client.keep.orders.insert_many(REFERENCE)
    verify_client(client, "before fuzzing")
    ping = op_msg({"ping": 1, "$db": "admin"})

    # Sanity: the probe itself sees a normal reply to a valid frame.
    r = probe(port, ping)
    check("valid ping gets ok:1 then EOF", r.closed and not r.hang and len(r.replies) == 1 and r.replies[0].get("ok") == 1,
          vars(r))

    # 1. Truncated frames: every prefix of a valid message (then EOF).
    for frame in (ping, op_query("admin.$cmd", {"isMaster": 1}), op_compressed(ping)):
        for cut in range(1, len(frame)):
            res = probe(port, frame[:cut])
            if not expect_error_or_close("truncated at %d of %d" % (cut, len(frame)), res):
                break
            check("truncated frame gets no reply", not res.replies, res.replies)
    verify_client(client, "after truncated frames")

    # 2. Oversized: the server must close after the header alone, without waiting for the body.
    for declared in (MAX_MESSAGE + 1, 64 * 1024 * 1024, 0x7FFFFFFF):
        res = probe(port, header(declared, 1, 0, OP_MSG) + b"\x00" * 64, shut_write=False, timeout=5)
        expect_error_or_close("declared %d bytes: closed without waiting" % declared, res)
    # ... and actually sent: 49 MB of a syntactically plausible OP_MSG.
    big_doc_len = 49 * 1024 * 1024
    big = op_msg(None, raw_body=struct.pack("<i", big_doc_len - 21) + b"\x02" + b"x" * (big_doc_len - 26))
    res = probe(port, big, timeout=30)
    expect_error_or_close("49 MB frame actually sent", res)
    # Just under the limit but over maxBsonObjectSize (16 MiB) inside: an error reply or a close.
    doc = {"insert": "target", "documents": [{"pad": "y" * (17 * 1024 * 1024)}], "$db": "fuzz"}
    res = probe(port, op_msg(None, raw_body=bson.encode(doc)), timeout=30)
    expect_error_or_close("17 MiB document in a 17 MiB frame", res)
    verify_client(client, "after oversized frames")

    # 3. Lying lengths.
    body = ping[16:]
    for declared, name in ((0, "zero"), (-1, "negative"), (15, "under a header"), (16, "header only"),
                           (17, "one byte of flags"), (len(ping) - 1, "one short"), (len(ping) + 1, "one long"),
                           (len(ping) + 1000, "1000 long"), (20, "flags only")):
        res = probe(port, header(declared, 7, 0, OP_MSG) + body)
        expect_error_or_close("length lies: %s (%d)" % (name, declared), res)
    # Two frames back to back where the first lies short: the rest is garbage, never a hang.
    res = probe(port, header(len(ping) - 5, 1, 0, OP_MSG) + body + ping)
    expect_error_or_close("short lie followed by a valid frame", res)
    # Slow delivery of a valid frame, byte by byte: still answered.
    res = probe(port, None, chunks=[ping[i:i + 1] for i in range(len(ping))])
    check("byte-by-byte frame answered", res.closed and len(res.replies) == 1 and res.replies[0].get("ok") == 1, vars(res))
    verify_client(client, "after lying lengths")

    # 4. Random bytes.
    rng = random.Random(args.seed)
    for i in range(300):
        n = rng.choice([1, 3, 15, 16, 17, 20, 21, 64, 200, 1000, 5000])
        data = bytes(rng.randrange(256) for _ in range(n))
        if rng.random() < 0.5 and n >= 16:  # a plausible header in front of random bytes
            data = header(n, rng.randrange(1 << 30), 0, rng.choice([OP_MSG, OP_QUERY, OP_COMPRESSED, 2001, 2002, 2005, 2010, 1, 0])) + data[16:]
        expect_error_or_close("random bytes #%d (%d bytes)" % (i, n), probe(port, data))
    verify_client(client, "after random bytes")

    # 5. Invalid BSON inside an otherwise valid OP_MSG: an error reply to the request.
    good = bson.encode({"ping": 1, "$db": "admin"})
    bad_bodies = {
        "document length larger than the section": struct.pack("<i", len(good) + 10) + good[4:],
        "document length smaller": struct.pack("<i", len(good) - 3) + good[4:],
        "document length 4": struct.pack("<i", 4) + good[4:],
        "no terminating NUL": good[:-1] + b"\x01",
        "unknown element type 0x42": good[:4] + b"\x42" + good[5:],
        "string length lies": bson.encode({"$db": "admin"})[:4] + b"\x02$db\x00" + struct.pack("<i", 1000) + b"admin\x00\x00",
        "string without NUL": b"\x15\x00\x00\x00\x02$db\x00\x06\x00\x00\x00adminX\x00",
        "nested document length lies": b"\x1c\x00\x00\x00\x03ping\x00\xff\x00\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00",
        "bool byte 7": b"\x1a\x00\x00\x00\x08ping\x00\x07\x02$db\x00\x06\x00\x00\x00admin\x00\x00",
        "invalid UTF-8 key": b"\x1a\x00\x00\x00\x10\xff\xfe\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00",
    }
    for name, raw in bad_bodies.items():
        res = probe(port, op_msg(None, raw_body=raw))
        ok = expect_error_or_close("invalid BSON: " + name, res)
        if ok:
            check("invalid BSON gets an error reply, not just a close: " + name,
                  len(res.replies) == 1 and is_error_reply(res.replies[0]), vars(res))
    # A valid body with an invalid document sequence.
    seq = b"documents\x00" + b"\x05\x00\x00"
    payload = struct.pack("<I", 0) + b"\x00" + bson.encode({"insert": "target", "$db": "fuzz"}) + b"\x01" + struct.pack("<i", 4 + len(seq)) + seq
    expect_error_or_close("invalid BSON in a document sequence", probe(port, header(16 + len(payload), 1, 0, OP_MSG) + payload))
    verify_client(client, "after invalid BSON")

    # 6. Unknown opcodes, legacy opcodes, bad flags and checksums, broken compression.
    for code in (0, 1, 2, 1000, 2001, 2002, 2005, 2006, 2007, 2010, 2011, 2014, 9999, -1):
        expect_error_or_close("opcode %d" % code, probe(port, header(len(ping), 1, 0, code) + body))
    expect_error_or_close("OP_MSG unknown required flag bit", probe(port, op_msg({"ping": 1, "$db": "admin"}, flags=1 << 3)))
    expect_error_or_close("OP_MSG checksumPresent with a wrong CRC",
                          probe(port, (lambda m: struct.pack("<i", len(m) + 4) + m[4:] + b"\xde\xad\xbe\xef")(
                              op_msg({"ping": 1, "$db": "admin"}, flags=1))))
    expect_error_or_close("OP_MSG without a body section", probe(port, header(21, 1, 0, OP_MSG) + struct.pack("<I", 0) + b"\x01"))
    expect_error_or_close("OP_MSG two body sections",
                          probe(port, (lambda p: header(16 + len(p), 1, 0, OP_MSG) + p)(
                              struct.pack("<I", 0) + b"\x00" + good + b"\x00" + good)))
    expect_error_or_close("OP_MSG section kind 7", probe(port, (lambda p: header(16 + len(p), 1, 0, OP_MSG) + p)(
        struct.pack("<I", 0) + b"\x07" + good)))
    expect_error_or_close("OP_COMPRESSED unknown compressor 99", probe(port, op_compressed(ping, compressor_id=99)))
    expect_error_or_close("OP_COMPRESSED size lies high", probe(port, op_compressed(ping, lie_size=1 << 30)))
    expect_error_or_close("OP_COMPRESSED size lies low", probe(port, op_compressed(ping, lie_size=3)))
    expect_error_or_close("OP_COMPRESSED zlib garbage", probe(port, (lambda m: m[:25] + b"\x78\x9c" + b"garbage" * 5)(op_compressed(ping))))
    expect_error_or_close("OP_COMPRESSED wrapping OP_COMPRESSED", probe(port, op_compressed(op_compressed(ping), compressor_id=0)))
    expect_error_or_close("OP_QUERY on a collection", probe(port, op_query("fuzz.target", {"a": 1})))
    verify_client(client, "after opcodes and flags")

    # 7. Unknown commands and unknown fields: error replies naming the problem.
    res = probe(port, op_msg({"frobnicate": 1, "$db": "admin"}))
    check("unknown command is 59 with its name", len(res.replies) == 1 and res.replies[0].get("code") == 59
          and "frobnicate" in res.replies[0].get("errmsg", ""), vars(res))
    res = probe(port, op_msg({"ping": 1}))
    check("OP_MSG without $db is an error reply", len(res.replies) == 1 and is_error_reply(res.replies[0]), vars(res))
    res = probe(port, op_msg({"$db": "admin"}))
    check("empty command is an error reply", len(res.replies) == 1 and is_error_reply(res.replies[0]), vars(res))
    for cmd in ({"find": "target", "bogusField": 1, "$db": "fuzz"},
                {"insert": "target", "documents": [{"a": 1}], "frob": True, "$db": "fuzz"},
                {"update": "target", "updates": [{"q": {}, "u": {"$set": {"a": 1}}, "zz": 1}], "$db": "fuzz"},
                {"find": 12, "$db": "fuzz"},
                {"insert": "target", "documents": "notanarray", "$db": "fuzz"},
                {"find": "target", "filter": {"$where": "1"}, "$db": "fuzz"},
                {"aggregate": "target", "pipeline": [{"$bogusStage": 1}], "cursor": {}, "$db": "fuzz"},
                {"getMore": 12345, "collection": "target", "$db": "fuzz"}):
        res = probe(port, op_msg(cmd))
        name = "unknown/invalid field: %s" % sorted(cmd)
        # An unknown field inside one update statement is reported as that statement's write
        # error 40415 by eddy (mongod fails the whole command with 40415; see the report).
        per_statement = (len(res.replies) == 1 and res.replies[0].get("ok") == 1
                         and [e.get("code") for e in res.replies[0].get("writeErrors", [])] == [40415])
        check(name, not res.hang and res.malformed is None and len(res.replies) == 1
              and (is_error_reply(res.replies[0]) or per_statement), vars(res))
    verify_client(client, "after unknown commands and fields")

    # 8. Thousands of mutations of valid frames, and moreToCome variants.
    frames = valid_frames()
    hangs = malformed = 0
    outcomes = {"ok reply": 0, "error reply": 0, "closed without reply": 0}
    for i in range(args.mutations):
        data = mutate(rng, rng.choice(frames))
        res = probe(port, data)
        if not res.replies:
            outcomes["closed without reply"] += 1
        for r in res.replies:
            outcomes["ok reply" if r.get("ok") == 1 else "error reply"] += 1
        if any(r.get("ok") != 1 and not is_error_reply(r) for r in res.replies):
            res.malformed = "error reply without code/valid errmsg: %r" % res.replies
        if res.hang or res.malformed or not res.closed:
            if hangs + malformed < 5:
                print("mutation #%d: %r hang=%s malformed=%s" % (i, data[:120], res.hang, res.malformed))
            hangs += res.hang
            malformed += res.malformed is not None
        if i % 1000 == 999:
            verify_client(client, "after %d mutations" % (i + 1))
            check("server alive after %d mutations" % (i + 1), server.proc.poll() is None)
    print("mutations: %r" % outcomes)
    check("mutations reach the command layer, not only the framing checks",
          outcomes["ok reply"] > 0 and outcomes["error reply"] > 0 and outcomes["closed without reply"] > 0, outcomes)
    check("mutations: no hang", hangs == 0, hangs)
    check("mutations: replies well-formed", malformed == 0, malformed)

    # 9. Many half-sent frames held open while a normal client works.
    held = []
    for _ in range(64):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(ping[:rng.randrange(1, len(ping))])
        held.append(s)
    t0 = time.time()
    verify_client(client, "with 64 half-sent frames open")
    check("normal client not delayed by stalled connections", time.time() - t0 < 5, time.time() - t0)
    for s in held:
        s.close()

    # 10. Concurrent fuzzing from 8 threads while PyMongo keeps working.
    stop = threading.Event()
    errors = []

    def fuzzer(seed):
        r = random.Random(seed)
        while not stop.is_set():
            res = probe(port, mutate(r, r.choice(frames)))
            if res.hang or res.malformed:
                errors.append((res.hang, res.malformed))
    threads = [threading.Thread(target=fuzzer, args=(args.seed + k,)) for k in range(8)]
    for t in threads:
        t.start()
    for k in range(20):
        verify_client(client, "concurrent round %d" % k)
    stop.set()
    for t in threads:
        t.join()
    check("concurrent fuzzing: no hang or malformed reply", not errors, errors[:3])

    verify_client(client, "at the end")
    client.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("eddy")
    ap.add_argument("--mutations", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20240501)
    args = ap.parse_args()
    with EddyServer(args.eddy) as server:
        pid = server.proc.pid
        # The server logs every refused frame: keep reading its output so it never blocks on a
        # full pipe, and keep the tail for the report.
        tail = []

        def drain():
            for line in server.proc.stdout:
                tail.append(line)
                del tail[:-20]
        threading.Thread(target=drain, daemon=True).start()
        try:
            run(server, args)
        except Exception:  # noqa: BLE001
            import traceback
            traceback.print_exc()
            results.append(("exception", False))
        check("server process %d never crashed" % pid, server.proc.poll() is None and server.proc.pid == pid,
              "exit %r; last output: %s" % (server.proc.poll(), "".join(tail)))
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("wire fuzz: %d passed, %d failed (seed %d, %d mutations)" % (passed, failed, args.seed, args.mutations))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
