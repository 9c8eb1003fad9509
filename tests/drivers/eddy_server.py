"""Starts `eddy serve` on a free loopback port with a fresh data directory and stops it by its
own PID. Used by the driver integration tests."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time


class EddyServer:
    def __init__(self, eddy_binary, extra_args=()):
        self.binary = eddy_binary
        self.extra_args = list(extra_args)
        self.data = tempfile.mkdtemp(prefix="eddy-driver-test-")
        self.proc = None
        self.port = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--port", "0", "--data", self.data] + self.extra_args,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on [^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                # Keep reading the server's output so a chatty server never blocks on a full pipe.
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.stop()
        raise RuntimeError("eddy serve did not start")

    def _drain(self):
        for line in self.proc.stdout:
            self.output_tail = (getattr(self, "output_tail", "") + line)[-20000:]

    def rss_kb(self):
        """The server's resident memory in KiB (Linux)."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    @property
    def uri(self):
        return "mongodb://127.0.0.1:%d/?replicaSet=rs0" % self.port

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)

    def __exit__(self, *exc):
        self.stop()
