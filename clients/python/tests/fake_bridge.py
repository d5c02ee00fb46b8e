"""A tiny stand-in for the Lockstep bridge's agent link, for the client tests: one scripted scenario per connection."""
import asyncio
import json
import os
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import websockets  # noqa: E402

TOKEN = "test-token"
DEADLINE = 5.0


class Conn(object):
    """One trainer connection as the scenario sees it; every message it sends is kept in .received."""

    def __init__(self, ws, index):
        self.ws = ws
        self.index = index
        self.received = []
        self.hello_msg = None

    async def next(self, timeout=DEADLINE):
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        msg = json.loads(data)
        self.received.append(msg)
        return msg

    async def expect(self, type_, timeout=DEADLINE):
        while True:
            msg = await self.next(timeout)
            if msg.get("type") == type_:
                return msg

    async def send(self, msg):
        await self.ws.send(json.dumps(msg))

    async def hello(self):
        self.hello_msg = await self.next()
        return self.hello_msg

    async def authenticate(self, vars=("x", "score"), max_steps=None, session="fake"):
        """Reads the hello; refuses a bad token like the bridge (4001) or welcomes it. Returns False when refused."""
        hello = await self.hello()
        if hello.get("token") != TOKEN:
            await self.ws.close(4001, "invalid session token")
            return False
        player = hello.get("player")
        await self.send({"type": "welcome", "protocol": 1, "session": session, "player": 0 if player is None else player,
                         "rom": "fake.nes", "vars": list(vars), "maxSteps": max_steps,
                         "buttons": ["A", "B", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT"], "screen": hello.get("screen")})
        return True

    async def state(self, frame, step, episode, vars, reward=0.0, screen=False, info=None):
        await self.send({"type": "state", "frame": frame, "step": step, "episode": episode, "timestamp": 1000.0 + frame,
                         "vars": vars, "reward": reward, "terminated": False, "truncated": False, "info": info or {},
                         "screen": screen})

    async def episode_end(self, episode, termination_frame, rows, reason):
        await self.send({"type": "episode_end", "episode": episode, "terminationFrame": termination_frame, "rows": rows,
                         "reason": reason})

    async def wait_closed(self, timeout=DEADLINE):
        try:
            while True:
                await self.next(timeout)
        except (websockets.exceptions.ConnectionClosed, asyncio.TimeoutError):
            pass


def screen_frame(frame, width, height, fmt, fill):
    code = {"rgba": 0, "gray": 1}[fmt]
    channels = 4 if fmt == "rgba" else 1
    return struct.pack("<4sBBHHI", b"LSSC", 1, code, width, height, frame) + bytes([fill]) * (width * height * channels)


class FakeBridge(object):
    """Runs `scenario(conn)` for each connection on a loop in a background thread. Use as a context manager."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.conns = []
        self.errors = []
        self.port = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._ready = threading.Event()
        self._stop = None
        self.finished = threading.Event()
        #: called before the bridge shuts down: a thread-less client answers the server's close only when it is called,
        #: so clients are closed first (as a trainer ends before its bridge in real use)
        self.before_exit = []

    def _main(self):
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self):
        self._stop = asyncio.Event()
        async with websockets.serve(self._handler, "127.0.0.1", 0) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    async def _handler(self, ws, *_path):
        conn = Conn(ws, len(self.conns))
        self.conns.append(conn)
        try:
            await self.scenario(conn)
        except websockets.exceptions.ConnectionClosed:
            pass
        except Exception as e:  # surfaced to the test through .errors
            self.errors.append(e)
        finally:
            self.finished.set()

    @property
    def url(self):
        return "ws://127.0.0.1:%d/agent" % self.port

    def __enter__(self):
        self._thread.start()
        if not self._ready.wait(DEADLINE):
            raise RuntimeError("fake bridge did not start")
        return self

    def __exit__(self, *exc):
        for fn in self.before_exit:
            fn()
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(DEADLINE)
        return False
