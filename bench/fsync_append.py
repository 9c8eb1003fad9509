#!/usr/bin/env python3
"""What one group commit's fdatasync costs on this file system, by how the WAL file grows:
  append      each write extends the file (RocksDB's default WAL: preallocated with
              FALLOC_FL_KEEP_SIZE, so the size still grows): data, inode and cache flush
  preallocated   the file was preallocated with its size (posix_fallocate): an append
              overwrites allocated space, as with eddy's WalSizedPreallocation
  overwrite   rewriting blocks written before (a recycled WAL)

  bench/fsync_append.py [--dir DIR] [--writes N] [--bytes B] [--rounds R]

Prints microseconds per write+fdatasync, the median over the rounds, for each mode."""
import argparse
import os
import statistics
import tempfile
import time


def run(path, mode, writes, size):
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o644)
    try:
        if mode == "preallocated":
            os.posix_fallocate(fd, 0, writes * size + (1 << 20))
            os.fsync(fd)
        elif mode == "overwrite":
            os.write(fd, b"\0" * (writes * size + (1 << 20)))
            os.fsync(fd)
            os.lseek(fd, 0, os.SEEK_SET)
        buf = b"x" * size
        t0 = time.perf_counter()
        for _ in range(writes):
            os.write(fd, buf)
            os.fdatasync(fd)
        return (time.perf_counter() - t0) / writes * 1e6
    finally:
        os.close(fd)
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=None, help="directory on the file system to test (default: a temporary one)")
    ap.add_argument("--writes", type=int, default=2000)
    ap.add_argument("--bytes", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    d = a.dir or tempfile.mkdtemp(prefix="eddy-fsync-")
    modes = ["append", "preallocated", "overwrite"]
    results = {m: [] for m in modes}
    for _ in range(a.rounds):
        for m in modes:  # interleaved: the machine's noise hits every mode alike
            results[m].append(run(os.path.join(d, "wal.test"), m, a.writes, a.bytes))
    for m in modes:
        runs = " / ".join("%.1f" % v for v in results[m])
        print("%-13s %7.1f us per write+fdatasync (median; %s)" % (m, statistics.median(results[m]), runs))
    if not a.dir:
        os.rmdir(d)


if __name__ == "__main__":
    main()
