#!/usr/bin/env python3
"""Starts eddy serve and runs the Node driver and mongosh tests against it."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(here))

from eddy_server import EddyServer  # noqa: E402


def main():
    eddy, which = sys.argv[1], sys.argv[2]
    with EddyServer(eddy) as server:
        if which == "node":
            cmd = ["node", os.path.join(here, "node_driver_test.js"), server.uri]
        elif which == "node-changestreams":
            cmd = ["node", os.path.join(here, "node_changestream_test.js"), server.uri]
        else:
            cmd = [os.path.join(here, "mongosh_test.sh"), server.uri]
        return subprocess.call(cmd, cwd=here, timeout=240)


if __name__ == "__main__":
    sys.exit(main())
