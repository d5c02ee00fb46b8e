"""LockstepSyncClient: the agent link without asyncio or threads, one blocking call per message; LockstepEnv's link."""
import json
import logging
import time
from typing import Any, Dict, List, Optional, Union

from .buttons import names_to_mask
from .client import (
    MAX_MESSAGE_BYTES, PROTOCOL_VERSION, EpisodeEnd, LockstepConnectionClosed, LockstepError, State, make_url,
    normalize_screen,
)
from .screen import decode_screen_frame
from .wsconn import WebSocketClosed, WebSocketConnection

log = logging.getLogger("lockstep_client")

Event = Union[State, EpisodeEnd]


def _now_ms() -> float:
    return time.time() * 1000.0


class LockstepSyncClient(object):
    """One agent link, used from one thread: connect(), then recv() a State, send_action() for its frame, and so on.

    Heartbeats and pings from the bridge are answered inside recv(): the bridge only sends them while it waits for us.
    """

    def __init__(self, name: str = "lockstep_client", open_timeout: float = 10.0, clock_ms=_now_ms) -> None:
        self.name = name
        self._open_timeout = open_timeout
        self._clock = clock_ms
        self._ws: Any = None
        self._quit = False
        self._seq = 0
        self.welcome: Optional[Dict[str, Any]] = None
        self.last_error: Optional[Dict[str, Any]] = None
        self.rtt_ms: Optional[float] = None
        self.clock_offset_ms: Optional[float] = None
        self.close_code: Optional[int] = None
        self.close_reason: Optional[str] = None

    # ---- connection ----

    def connect(self, url: str, token: Optional[str] = None, player: Optional[int] = None, screen: Any = None,
                name: Optional[str] = None, frameskip: Optional[int] = None) -> Dict[str, Any]:
        """Opens the link, sends the hello, returns the welcome; raises LockstepConnectionClosed on refusal."""
        if player not in (None, 0, 1):
            raise ValueError("player must be 0, 1 or None (first free controller), got %r" % (player,))
        request = normalize_screen(screen)
        url = make_url(url)
        self.close()
        self._quit = False
        self.close_code = self.close_reason = None
        try:
            ws = WebSocketConnection.open(url, self._open_timeout, MAX_MESSAGE_BYTES)
        except (OSError, ValueError) as e:
            raise LockstepError("cannot reach the bridge at %s: %s" % (url, e)) from None
        self._ws = ws
        hello: Dict[str, Any] = {"type": "hello", "role": "agent", "protocol": PROTOCOL_VERSION, "name": name or self.name}
        if token:
            hello["token"] = token
        if player is not None:
            hello["player"] = player
        if request:
            hello["screen"] = request
        if frameskip is not None and frameskip != 1:
            hello["frameskip"] = int(frameskip)  # each action holds for this many frames (the bridge answers the rest)
        self._send(hello)
        deadline = time.monotonic() + self._open_timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise LockstepError("no welcome from the bridge at %s within %ss" % (url, self._open_timeout))
            data = self._recv_raw(left)
            if isinstance(data, bytes):
                continue
            msg = json.loads(data)
            if msg.get("type") == "welcome":
                break
            if msg.get("type") == "error":
                self.last_error = msg
        if msg.get("protocol") != PROTOCOL_VERSION:
            self.close()
            raise LockstepError("bridge speaks protocol %r, this client %d" % (msg.get("protocol"), PROTOCOL_VERSION))
        self.welcome = msg
        return msg

    @property
    def connected(self) -> bool:
        return self._ws is not None and self.close_code is None

    def close(self, reason: str = "trainer finished") -> None:
        """Says quit and closes the link (the bridge keeps the session waiting for another trainer)."""
        ws, self._ws = self._ws, None
        if ws is None:
            return
        try:
            ws.send(json.dumps({"type": "quit", "code": 1000, "reason": reason}))
            ws.close(1000, reason)
        except Exception:  # closing must not raise over a dead link
            pass

    # ---- observations and actions ----

    def recv(self, timeout: Optional[float] = None) -> Event:
        """The next State or EpisodeEnd (with its screen when one follows); TimeoutError after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            data = self._recv_raw(left)
            if isinstance(data, bytes):
                log.warning("ignoring a binary message that follows no state")
                continue
            try:
                msg = json.loads(data)
            except ValueError as e:
                raise self._protocol_error("bridge sent invalid JSON: %s" % e)
            t = msg.get("type") if isinstance(msg, dict) else None
            if t == "state":
                return State(msg, self._screen_for(msg["frame"], left) if msg.get("screen") else None)
            if t == "episode_end":
                final = msg.get("final")
                screen = self._screen_for(final["frame"], left) if isinstance(final, dict) and final.get("screen") else None
                return EpisodeEnd(msg, screen)
            self._on_control(t, msg)

    def send_action(self, frame: int, buttons: Union[int, List[str]], info: Optional[Dict[str, Any]] = None) -> None:
        """Buttons for `frame` (a mask 0..255 or button names); always answer with the frame id of the state received."""
        if not isinstance(buttons, int) or isinstance(buttons, bool):
            buttons = names_to_mask(buttons)
        if not 0 <= buttons <= 0xFF:
            raise ValueError("button mask must be 0..255, got %r" % (buttons,))
        # Formatted by hand: this runs once per frame, and json.dumps of a dict costs more than the rest of the send.
        if info:
            self._send({"type": "action", "frame": int(frame), "buttons": buttons, "info": info})
        else:
            self._send_text('{"type":"action","frame":%d,"buttons":%d}' % (int(frame), buttons))

    def terminate(self, frame: int) -> None:
        """Tells the bridge this trainer's episode is over at `frame` (the bridge fixes the synced termination frame)."""
        self._send({"type": "terminate", "frame": int(frame)})

    def ping(self, timeout: float = 5.0) -> float:
        """Round trip in ms (also sets clock_offset_ms). Call between steps: states arriving meanwhile are an error."""
        self._seq += 1
        pid = self._seq
        self._send({"type": "ping", "id": pid, "t0": self._clock()})
        deadline = time.monotonic() + timeout
        while True:
            data = self._recv_raw(max(0.0, deadline - time.monotonic()))
            if isinstance(data, bytes):
                continue
            msg = json.loads(data)
            if msg.get("type") == "pong" and msg.get("id") == pid:
                rtt = self._clock() - msg["t0"]
                self.rtt_ms = rtt
                self.clock_offset_ms = msg["t1"] - (msg["t0"] + rtt / 2.0)
                return rtt
            if msg.get("type") in ("state", "episode_end"):
                raise LockstepError("ping: the bridge sent a %s while a ping was out (ping between steps only)" % msg["type"])
            self._on_control(msg.get("type"), msg)

    # ---- internals ----

    def _screen_for(self, frame: int, timeout: Optional[float]):
        data = self._recv_raw(timeout)
        if not isinstance(data, bytes):
            raise self._protocol_error("expected the screen of frame %d, got a text message" % frame)
        try:
            screen = decode_screen_frame(data)
        except ValueError as e:
            raise self._protocol_error("bad screen for frame %s: %s" % (frame, e))
        if screen.frame != frame:
            raise self._protocol_error("screen is for frame %d but the state before it is frame %d" % (screen.frame, frame))
        return screen

    def _on_control(self, t: Optional[str], msg: Dict[str, Any]) -> None:
        if t == "heartbeat":
            self._send({"type": "heartbeat_ack", "seq": msg.get("seq"), "timestamp": self._clock()})
        elif t == "ping":
            self._send({"type": "pong", "id": msg.get("id"), "t0": msg.get("t0"), "t1": self._clock()})
        elif t == "quit":
            self._quit = True
            log.info("bridge ended the session: %s", msg.get("reason", ""))
        elif t == "error":
            self.last_error = msg
            log.warning("bridge error %s: %s", msg.get("code"), msg.get("message"))
        elif t in ("heartbeat_ack", "pong", "resync_request"):
            pass
        else:
            log.warning("ignoring unknown message type %r from the bridge", t)

    def _recv_raw(self, timeout: Optional[float]):
        ws = self._ws
        if ws is None:
            raise LockstepError("not connected: call connect() first")
        try:
            return ws.recv(timeout)
        except WebSocketClosed as e:
            raise self._closed_error(e) from None

    def _send(self, msg: Dict[str, Any]) -> None:
        self._send_text(json.dumps(msg))

    def _send_text(self, text: str) -> None:
        ws = self._ws
        if ws is None:
            raise LockstepError("not connected: call connect() first")
        try:
            ws.send(text)
        except WebSocketClosed as e:
            raise self._closed_error(e) from None

    def _closed_error(self, e: WebSocketClosed) -> LockstepConnectionClosed:
        code, reason = e.code, e.reason
        self.close_code, self.close_reason = code, reason
        self._ws = None
        return LockstepConnectionClosed(code, reason, self._quit)

    def _protocol_error(self, text: str) -> LockstepError:
        log.error("%s", text)
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(1002, text[:120])
            except Exception:
                pass
        self.close_code, self.close_reason = 1002, text
        return LockstepError(text)

