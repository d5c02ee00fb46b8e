"""The floor of any Python link to Lockstep's emulator: one bare Unix-socket round trip per frame (bench/python.ts).

Sends one byte (the buttons) and reads one JSON line (the RAM-map variables of the frame that ran): no WebSocket, no
runtime, no env. Prints one JSON line with the rate.
"""
import argparse
import json
import random
import socket
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--socket", required=True)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--warmup", type=int, default=300)
    args = p.parse_args()
    rng = random.Random(1)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args.socket)
    buf = b""
    t0 = time.perf_counter()
    for i in range(args.warmup + args.steps):
        if i == args.warmup:
            t0 = time.perf_counter()
            c0 = time.process_time()
        s.sendall(bytes((rng.randrange(256),)))
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("python_floor: the bench's server closed the socket")
            buf += chunk
        line, _, buf = buf.partition(b"\n")
        json.loads(line)
    seconds = time.perf_counter() - t0
    python_cpu = time.process_time() - c0
    s.close()
    print(json.dumps({"steps_per_s": args.steps / seconds, "python_cpu_us": python_cpu / args.steps * 1e6}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
