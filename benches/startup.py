#!/usr/bin/env python3
"""startup.py BINARY [RUNS]: start to ready, in milliseconds, for a fresh database each run.

Starts the server (local mode, SQLite in a temp dir, the shipped templates), polls GET /readyz
every millisecond until it answers 200, and prints each run's time and the median and worst.
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def ready(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one(binary, root):
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, PORT=str(port), DATABASE_URL=f"sqlite://{d}/s.db",
                   SWITCHBOARD_STATE_DIR=f"{d}/state", TEMPLATES_DIR=f"{root}/templates",
                   RUST_LOG="warn")
        env.pop("TWILIO_AUTH_TOKEN", None)
        start = time.perf_counter()
        p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not ready(port):
                if p.poll() is not None:
                    sys.exit(f"server exited with {p.returncode}")
                if time.perf_counter() - start > 10:
                    sys.exit("not ready after 10 s")
                time.sleep(0.001)
            return (time.perf_counter() - start) * 1000
        finally:
            p.terminate()
            p.wait()


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    times = [one(binary, root) for _ in range(runs)]
    print("runs:", " ".join(f"{t:.1f}" for t in times))
    print(f"start to ready: median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms")


if __name__ == "__main__":
    main()
