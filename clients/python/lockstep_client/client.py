"""Low-level asyncio client for the Lockstep bridge's agent link: hello/welcome, states (+ screens), actions, heartbeats."""
import asyncio
import json
import logging
import time

try:
    import websockets
    import websockets.exceptions
except ImportError as _e:  # pragma: no cover - depends on the machine
    raise ImportError("lockstep_client needs the 'websockets' package (>=10): pip install websockets, "
                      "or apt-get install python3-websockets") from _e

from .buttons import names_to_mask
from .screen import decode_screen_frame
from .wire import CLOSE, MAX_MESSAGE_BYTES, PROTOCOL_VERSION

log = logging.getLogger("lockstep_client")

# RFC 6455's code for a link that dropped without a close frame: the library reports it, the bridge never sends it.
CLOSE_DROPPED = 1006

# What each close code means, for error messages.
CLOSE_HINTS = {
    CLOSE["normal"]: "normal close",
    CLOSE["protocolError"]: "protocol error",
    CLOSE_DROPPED: "connection dropped without a close frame",
    CLOSE["notReading"]: "this client stopped reading: too much queued for it unsent",
    CLOSE["tooBig"]: "message too big for the bridge",
    CLOSE["badToken"]: "invalid session token: pass the token the bridge printed (--token or LOCKSTEP_TOKEN)",
    CLOSE["badOrigin"]: "Origin header not allowed: connect from a non-browser client or a loopback page",
    CLOSE["badVersion"]: "protocol version not supported by this bridge",
    CLOSE["malformed"]: "malformed or invalid message",
    CLOSE["helloTimeout"]: "no hello sent in time",
    CLOSE["replaced"]: "replaced by a newer trainer connection for the same controller",
}
# Closes after which reconnecting cannot help.
FATAL_CLOSE_CODES = frozenset(CLOSE[n] for n in ("normal", "tooBig", "badToken", "badOrigin", "badVersion", "malformed", "replaced"))


class LockstepError(Exception):
    """Anything that went wrong talking to the bridge."""


class LockstepConnectionClosed(LockstepError):
    """The bridge closed the link (or it dropped): code and reason as the bridge sent them."""

    def __init__(self, code, reason, quit=False):
        self.code = code
        self.reason = reason or ""
        self.quit = quit
        hint = CLOSE_HINTS.get(code)
        text = "bridge closed the connection (code %s%s)" % (code, ": " + self.reason if self.reason else "")
        if hint and hint not in self.reason:
            text += " - " + hint
        if quit:
            text += " [session ended]"
        super(LockstepConnectionClosed, self).__init__(text)

    @property
    def retryable(self):
        return not self.quit and self.code not in FATAL_CLOSE_CODES


class State(object):
    """One observation from the bridge: the state before `frame` runs. Answer it with send_action(state.frame, ...)."""

    __slots__ = ("frame", "step", "episode", "timestamp", "vars", "reward", "terminated", "truncated", "info", "screen", "frames")

    def __init__(self, msg, screen=None):
        self.frame = msg["frame"]
        self.step = msg["step"]
        self.episode = msg["episode"]
        self.timestamp = msg["timestamp"]
        # msg is this State's own (fresh from the JSON decoder): its dicts are kept, not copied.
        self.vars = msg["vars"]
        self.reward = float(msg["reward"])
        self.terminated = bool(msg["terminated"])
        self.truncated = bool(msg["truncated"])
        self.info = msg.get("info") or {}
        #: a ScreenFrame when the trainer asked for screens and the bridge had one for this frame
        self.screen = screen
        #: frames run since the trainer's last answer (its declared frameskip; reward is their sum)
        self.frames = int(msg.get("frames", 1))

    def __repr__(self):
        return "State(frame=%d, step=%d, episode=%d, reward=%g)" % (self.frame, self.step, self.episode, self.reward)


class EpisodeEnd(object):
    """The bridge ended an episode: rows recorded, the synced termination frame and why."""

    __slots__ = ("episode", "termination_frame", "rows", "reason", "raw", "final")

    def __init__(self, msg, screen=None):
        self.episode = msg["episode"]
        self.termination_frame = msg["terminationFrame"]
        self.rows = msg["rows"]
        self.reason = msg["reason"]
        self.raw = dict(msg)
        final = msg.get("final")
        #: the State after the episode's last frame (the last step's observation), or None from an older bridge
        self.final = None
        if isinstance(final, dict):
            self.final = State({
                "frame": final["frame"], "step": self.rows, "episode": self.episode, "timestamp": final.get("timestamp", 0),
                "vars": final.get("vars") or {}, "reward": msg.get("reward", 0.0), "terminated": self.terminated,
                "truncated": self.truncated, "info": final.get("info") or {}, "frames": msg.get("frames", 1),
            }, screen)

    @property
    def terminated(self):
        return self.reason in ("done_flag", "agent_terminated")

    @property
    def truncated(self):
        return not self.terminated

    def as_dict(self):
        return {"episode": self.episode, "terminationFrame": self.termination_frame, "rows": self.rows, "reason": self.reason}

    def __repr__(self):
        return "EpisodeEnd(episode=%d, rows=%d, reason=%s)" % (self.episode, self.rows, self.reason)


class _Closed(object):
    def __init__(self, error):
        self.error = error


def make_url(url=None, host=None, port=None):
    """ws://host:port/agent from a full URL, "host:port", a bare port, or host/port parts."""
    if url is not None and not isinstance(url, str):
        url = str(url)
    if url:
        if url.isdigit():
            url = "127.0.0.1:" + url
        if "://" not in url:
            url = "ws://" + url
        scheme, rest = url.split("://", 1)
        if "/" not in rest:
            url = url + "/agent"
        return url
    if port is None:
        raise ValueError("no bridge address: give a URL such as ws://127.0.0.1:PORT/agent, or a port")
    return "ws://%s:%d/agent" % (host or "127.0.0.1", int(port))


def normalize_screen(screen):
    """A screen request for the hello: None/False (no screens), True/"rgba"/"gray", or {"format", "downsample"}."""
    if screen is None or screen is False:
        return None
    if screen is True:
        return {"format": "rgba", "downsample": 1}
    if isinstance(screen, str):
        screen = {"format": screen}
    if not isinstance(screen, dict):
        raise ValueError("screen must be None, True, 'rgba', 'gray' or {'format': ..., 'downsample': ...}, got %r" % (screen,))
    fmt = screen.get("format", "rgba")
    factor = screen.get("downsample", 1)
    if fmt not in ("rgba", "gray"):
        raise ValueError("screen format must be 'rgba' or 'gray', got %r" % (fmt,))
    if factor not in (1, 2, 4, 8) or isinstance(factor, bool):
        raise ValueError("screen downsample must be 1, 2, 4 or 8, got %r" % (factor,))
    return {"format": fmt, "downsample": factor}


def _now_ms():
    return time.time() * 1000.0


def _close_info(exc, ws):
    rcvd = getattr(exc, "rcvd", None)
    if rcvd is not None:
        return rcvd.code, rcvd.reason
    code = getattr(ws, "close_code", None)
    return (code if code is not None else CLOSE_DROPPED), (getattr(ws, "close_reason", None) or "")


class LockstepClient(object):
    """asyncio client for one agent link. Use from one event loop; see LockstepEnv for a synchronous Gymnasium API."""

    def __init__(self, name="lockstep_client", clock_ms=_now_ms, open_timeout=10.0):
        self.name = name
        self._clock = clock_ms
        self._open_timeout = open_timeout
        self._ws = None
        self._reader = None
        self._events = None
        self._pending_state = None
        self._pings = {}
        self._acks = {}
        self._seq = 0
        self._quit = False
        self.welcome = None
        #: the last "error" message the bridge sent (it precedes a close with the same reason)
        self.last_error = None
        #: round trip of the last answered ping/heartbeat, ms
        self.rtt_ms = None
        #: bridge clock minus local clock, ms, from the last pong
        self.clock_offset_ms = None
        self.close_code = None
        self.close_reason = None

    # ---- connection ----

    async def connect(self, url, token=None, player=None, screen=None, name=None, origin=None, frameskip=None):
        """Opens the link, sends the hello, returns the welcome dict; raises LockstepConnectionClosed on refusal."""
        if player not in (None, 0, 1):
            raise ValueError("player must be 0, 1 or None (first free controller), got %r" % (player,))
        request = normalize_screen(screen)
        url = make_url(url)
        kwargs = {"max_size": MAX_MESSAGE_BYTES, "ping_interval": None, "open_timeout": self._open_timeout, "compression": None}
        if origin is not None:
            kwargs["origin"] = origin
        try:
            ws = await websockets.connect(url, **kwargs)
        except websockets.exceptions.InvalidHandshake as e:
            raise LockstepError("WebSocket handshake with %s failed: %s" % (url, e)) from None
        except (OSError, asyncio.TimeoutError) as e:
            raise LockstepError("cannot reach the Lockstep bridge at %s: %s" % (url, e or type(e).__name__)) from None
        self._ws = ws
        self._quit = False
        self.close_code = self.close_reason = None
        self._events = asyncio.Queue()
        self._pending_state = None
        hello = {"type": "hello", "role": "agent", "protocol": PROTOCOL_VERSION, "name": name or self.name, "screen": request}
        if token is not None:  # else the URL carries it as ?token=
            hello["token"] = token
        if player is not None:
            hello["player"] = player
        if frameskip is not None and frameskip != 1:
            hello["frameskip"] = int(frameskip)  # each action holds for this many frames (the bridge answers the rest)
        try:
            await ws.send(json.dumps(hello))
            while True:
                text = await asyncio.wait_for(ws.recv(), self._open_timeout)
                if isinstance(text, bytes):
                    continue
                msg = json.loads(text)
                if msg.get("type") == "welcome":
                    break
                if msg.get("type") == "error":
                    self.last_error = msg
        except websockets.exceptions.ConnectionClosed as e:
            code, reason = _close_info(e, ws)
            self._set_closed(code, reason)
            raise LockstepConnectionClosed(code, reason) from None
        except asyncio.TimeoutError:
            await ws.close()
            raise LockstepError("no welcome from the bridge at %s within %ss" % (url, self._open_timeout)) from None
        if msg.get("protocol") != PROTOCOL_VERSION:
            await ws.close()
            raise LockstepError("bridge speaks protocol %r, this client %d" % (msg.get("protocol"), PROTOCOL_VERSION))
        self.welcome = msg
        self._reader = asyncio.ensure_future(self._read_loop(ws))
        return msg

    @property
    def connected(self):
        return self._ws is not None and self.close_code is None

    @property
    def vars(self):
        return list(self.welcome["vars"]) if self.welcome else []

    @property
    def player(self):
        return self.welcome["player"] if self.welcome else None

    @property
    def session(self):
        return self.welcome["session"] if self.welcome else None

    @property
    def max_steps(self):
        return self.welcome["maxSteps"] if self.welcome else None

    @property
    def screen(self):
        """The screen request the bridge accepted, or None."""
        return self.welcome["screen"] if self.welcome else None

    async def close(self, reason="trainer finished"):
        """Says quit and closes the link (the bridge keeps the session waiting for another trainer)."""
        ws = self._ws
        if ws is None:
            return
        try:
            await ws.send(json.dumps({"type": "quit", "code": CLOSE["normal"], "reason": reason}))
            await ws.close(CLOSE["normal"], reason)
        except websockets.exceptions.ConnectionClosed:
            pass
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 2)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._reader.cancel()
        self._ws = None

    # ---- observations and actions ----

    async def recv(self, timeout=None):
        """The next State or EpisodeEnd; raises LockstepConnectionClosed when the link is gone."""
        if self._events is None:
            raise LockstepError("not connected: call connect() first")
        if timeout is None:
            ev = await self._events.get()
        else:
            ev = await asyncio.wait_for(self._events.get(), timeout)
        if isinstance(ev, _Closed):
            self._events.put_nowait(ev)  # every later recv() fails the same way
            raise ev.error
        return ev

    async def recv_state(self, timeout=None):
        """The next State, skipping episode ends (kept in .last_episode_end)."""
        while True:
            ev = await self.recv(timeout)
            if isinstance(ev, State):
                return ev
            self.last_episode_end = ev

    last_episode_end = None

    async def send_action(self, frame, buttons, info=None):
        """Buttons for `frame`: a mask 0..255 or button names. Always answer with the frame id of the state received."""
        if not isinstance(buttons, int) or isinstance(buttons, bool):
            buttons = names_to_mask(buttons)
        if not 0 <= buttons <= 0xFF:
            raise ValueError("button mask must be 0..255, got %r" % (buttons,))
        msg = {"type": "action", "frame": int(frame), "buttons": buttons}
        if info:
            msg["info"] = info
        await self._send(msg)

    async def terminate(self, frame):
        """Tells the bridge this trainer's episode is over at `frame` (the bridge fixes the synced termination frame)."""
        await self._send({"type": "terminate", "frame": int(frame)})

    async def resync(self, reason=None):
        """Asks the bridge to send the unanswered state again."""
        msg = {"type": "resync_request", "timestamp": self._clock()}
        if reason:
            msg["reason"] = reason
        await self._send(msg)

    # ---- liveness and clocks ----

    async def ping(self, timeout=5.0):
        """Round trip in ms; also updates clock_offset_ms (bridge clock minus ours)."""
        self._seq += 1
        pid = self._seq
        fut = asyncio.get_running_loop().create_future()
        self._pings[pid] = fut
        try:
            await self._send({"type": "ping", "id": pid, "t0": self._clock()})
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._pings.pop(pid, None)

    async def heartbeat(self, timeout=5.0):
        """True when the bridge acknowledges a heartbeat within timeout."""
        self._seq += 1
        seq = self._seq
        fut = asyncio.get_running_loop().create_future()
        self._acks[seq] = fut
        sent = self._clock()
        try:
            await self._send({"type": "heartbeat", "seq": seq, "timestamp": sent})
            await asyncio.wait_for(fut, timeout)
            self.rtt_ms = self._clock() - sent
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._acks.pop(seq, None)

    # ---- internals ----

    async def _send(self, msg):
        if self._ws is None:
            raise LockstepError("not connected: call connect() first")
        try:
            await self._ws.send(json.dumps(msg))
        except websockets.exceptions.ConnectionClosed as e:
            code, reason = _close_info(e, self._ws)
            raise LockstepConnectionClosed(code, reason, self._quit) from None

    def _set_closed(self, code, reason):
        self.close_code = code
        self.close_reason = reason

    async def _read_loop(self, ws):
        try:
            while True:
                data = await ws.recv()
                if isinstance(data, bytes):
                    self._on_binary(data)
                else:
                    await self._on_text(data)
        except websockets.exceptions.ConnectionClosed as e:
            code, reason = _close_info(e, ws)
        except LockstepError as e:
            log.error("%s", e)
            await ws.close(CLOSE["protocolError"], str(e)[:120])
            code, reason = CLOSE["protocolError"], str(e)
        self._set_closed(code, reason)
        for fut in list(self._pings.values()) + list(self._acks.values()):
            if not fut.done():
                fut.set_exception(LockstepConnectionClosed(code, reason, self._quit))
        self._events.put_nowait(_Closed(LockstepConnectionClosed(code, reason, self._quit)))

    async def _on_text(self, text):
        try:
            msg = json.loads(text)
        except ValueError as e:
            raise LockstepError("bridge sent invalid JSON: %s" % e)
        t = msg.get("type") if isinstance(msg, dict) else None
        if t == "state":
            if self._pending_state is not None:
                log.warning("state for frame %s came without its screen", _frame_of(self._pending_state))
                self._events.put_nowait(_event(self._pending_state))
                self._pending_state = None
            if msg.get("screen"):
                self._pending_state = msg  # its screen follows as a binary frame
            else:
                self._events.put_nowait(State(msg))
        elif t == "episode_end":
            final = msg.get("final")
            if isinstance(final, dict) and final.get("screen"):
                self._pending_state = msg  # the final state's screen follows as a binary frame
            else:
                self._events.put_nowait(EpisodeEnd(msg))
        elif t == "heartbeat":
            await self._send({"type": "heartbeat_ack", "seq": msg.get("seq"), "timestamp": self._clock()})
        elif t == "heartbeat_ack":
            fut = self._acks.get(msg.get("seq"))
            if fut is not None and not fut.done():
                fut.set_result(True)
        elif t == "ping":
            await self._send({"type": "pong", "id": msg.get("id"), "t0": msg.get("t0"), "t1": self._clock()})
        elif t == "pong":
            fut = self._pings.get(msg.get("id"))
            if fut is not None and not fut.done():
                rtt = self._clock() - msg["t0"]
                self.rtt_ms = rtt
                self.clock_offset_ms = msg["t1"] - (msg["t0"] + rtt / 2.0)
                fut.set_result(rtt)
        elif t == "quit":
            self._quit = True
            log.info("bridge ended the session: %s", msg.get("reason", ""))
        elif t == "error":
            self.last_error = msg
            log.warning("bridge error %s: %s", msg.get("code"), msg.get("message"))
        elif t == "resync_request":
            # Frame ids follow the states: the bridge resends the state it wants answered.
            log.info("bridge asked for a resync: %s", msg.get("reason", ""))
        else:
            log.warning("ignoring unknown message type %r from the bridge", t)

    def _on_binary(self, data):
        pending = self._pending_state
        if pending is None:
            log.warning("ignoring a binary message that follows no state")
            return
        self._pending_state = None
        try:
            frame = decode_screen_frame(data)
        except ValueError as e:
            raise LockstepError("bad screen for frame %s: %s" % (_frame_of(pending), e))
        if frame.frame != _frame_of(pending):
            raise LockstepError("screen is for frame %d but the state before it is frame %d" % (frame.frame, _frame_of(pending)))
        self._events.put_nowait(_event(pending, frame))


def _frame_of(msg):
    """The frame a screen that follows `msg` belongs to (an episode_end's screen is its final state's)."""
    return msg["final"]["frame"] if msg.get("type") == "episode_end" else msg["frame"]


def _event(msg, screen=None):
    return EpisodeEnd(msg, screen) if msg.get("type") == "episode_end" else State(msg, screen)
