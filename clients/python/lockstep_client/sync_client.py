"""LockstepSyncClient: the agent link without asyncio or threads, one blocking call per message; LockstepEnv's link."""
import collections
import json
import logging
import threading
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

    Heartbeats and pings from the bridge are answered inside recv(). While the trainer is away from the link (training
    between rollouts, waiting for the next remote call), a keeper thread looks at the socket a few times a second and
    answers them, so the bridge never takes a busy trainer for a dead one; it keeps any other message for recv(). It
    never runs in the way of a step: the link's lock is only tried, never waited for.
    """

    #: how often the keeper looks at an idle link (the bridge's heartbeat interval is 1 s by default)
    KEEPER_INTERVAL = 0.2

    def __init__(self, name: str = "lockstep_client", open_timeout: float = 10.0, clock_ms=_now_ms) -> None:
        self.name = name
        self._open_timeout = open_timeout
        self._clock = clock_ms
        self._ws: Any = None
        self._lock = threading.RLock()
        self._inbox: Any = collections.deque()
        self._keeper: Optional[threading.Thread] = None
        self._stop_keeper = threading.Event()
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
                name: Optional[str] = None, frameskip: Optional[int] = None, unix_socket: Optional[str] = None) -> Dict[str, Any]:
        """Opens the link, sends the hello, returns the welcome; raises LockstepConnectionClosed on refusal.

        unix_socket: reach the bridge through this Unix-domain socket (its `--socket`) instead of the URL's host:port.
        """
        if player not in (None, 0, 1):
            raise ValueError("player must be 0, 1 or None (first free controller), got %r" % (player,))
        request = normalize_screen(screen)
        url = make_url(url)
        self.close()
        self._quit = False
        self.close_code = self.close_reason = None
        try:
            ws = WebSocketConnection.open(url, self._open_timeout, MAX_MESSAGE_BYTES, unix_socket)
        except (OSError, ValueError) as e:
            where = "%s (socket %s)" % (url, unix_socket) if unix_socket else url
            raise LockstepError("cannot reach the bridge at %s: %s" % (where, e)) from None
        self._ws = ws
        self._inbox.clear()
        if self._keeper is None:
            self._stop_keeper.clear()
            self._keeper = threading.Thread(target=self._keep, name="lockstep-link-keeper", daemon=True)
            self._keeper.start()
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
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            self._stop_keeper.set()
            keeper.join(5)
        with self._lock:
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
        with self._lock:
            if self._inbox:
                return self._inbox.popleft()
            ws = self._ws
            if ws is None:
                raise LockstepError("not connected: call connect() first")
            try:
                return ws.recv(timeout)
            except WebSocketClosed as e:
                raise self._closed_error(e) from None

    def _keep(self) -> None:
        """The keeper thread: answers heartbeats and pings on an idle link, keeps everything else for recv()."""
        while not self._stop_keeper.wait(self.KEEPER_INTERVAL):
            if not self._lock.acquire(blocking=False):
                continue  # the trainer is using the link right now
            try:
                ws = self._ws
                while ws is not None:
                    try:
                        data = ws.recv(0)
                    except (TimeoutError, WebSocketClosed):
                        break  # nothing waiting (a closed link is reported to the trainer by its next call)
                    msg = None
                    if isinstance(data, str):
                        try:
                            msg = json.loads(data)
                        except ValueError:
                            msg = None
                    t = msg.get("type") if isinstance(msg, dict) else None
                    if t in ("heartbeat", "ping"):
                        self._on_control(t, msg)
                    else:
                        self._inbox.append(data)
            except Exception as e:  # the keeper must never die silently in a way that loses a message
                log.debug("link keeper: %s", e)
            finally:
                self._lock.release()

    def _send(self, msg: Dict[str, Any]) -> None:
        self._send_text(json.dumps(msg))

    def _send_text(self, text: str) -> None:
        with self._lock:
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

