"""WebSocketConnection: a minimal blocking RFC 6455 client on one socket, no threads: the per-step link of LockstepEnv.

A general WebSocket library hands every message from a reader thread to the caller (two context switches per message);
at one small message each way per frame that cost more than the emulator's frame. This reads and writes frames directly.
Only what the bridge uses: text and binary messages (fragmented or not), ping/pong, close; no extensions.
"""
import base64
import hashlib
import os
import select
import socket
import struct
from typing import Optional, Tuple, Union

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _BINARY, _CLOSE, _PING, _PONG, _CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


class WebSocketClosed(Exception):
    """The connection is closed: code and reason from the peer's close frame (1006 when it just dropped)."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super(WebSocketClosed, self).__init__("connection closed (code %d%s)" % (code, ": " + reason if reason else ""))


class WebSocketConnection(object):
    def __init__(self, sock: socket.socket, max_size: int) -> None:
        self.sock = sock
        self.max_size = max_size
        self._buf = bytearray()
        self.closed: Optional[WebSocketClosed] = None
        # Masking keys come from os.urandom as RFC 6455 asks, drawn 256 at a time: one getrandom call per frame is a
        # syscall on the step path for 4 bytes.
        self._masks = b""
        self._mask_at = 0

    @classmethod
    def open(cls, url: str, timeout: float, max_size: int = 1 << 21, unix_socket: Optional[str] = None) -> "WebSocketConnection":
        """Connects to ws://host:port/path[?query] and completes the opening handshake; OSError or ValueError on failure.

        With unix_socket, the connection goes to that Unix-domain socket instead of host:port (the URL still gives the
        path and the Host header): the bridge's `--socket`, for a trainer on the same machine.
        """
        if not url.startswith("ws://"):
            raise ValueError("only ws:// URLs are supported (the bridge listens on 127.0.0.1), got %r" % (url,))
        rest = url[len("ws://"):]
        hostport, _, path = rest.partition("/")
        path = "/" + path
        if hostport.startswith("["):
            host, _, port_s = hostport[1:].partition("]:")
        else:
            host, _, port_s = hostport.rpartition(":")
        port = int(port_s or 80)
        if unix_socket is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(unix_socket)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection((host, port), timeout=timeout)
        try:
            if unix_socket is None:
                # One small message each way per frame: Nagle's algorithm would only add delay.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            key = base64.b64encode(os.urandom(16))
            request = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key.decode()))
            sock.sendall(request.encode())
            head = bytearray()
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ValueError("the server closed the connection during the WebSocket handshake")
                head += chunk
                if len(head) > 65536:
                    raise ValueError("WebSocket handshake response too large")
            header, _, extra = bytes(head).partition(b"\r\n\r\n")
            lines = header.decode("latin-1").split("\r\n")
            status = lines[0].split(" ", 2)
            if len(status) < 2 or status[1] != "101":
                raise ValueError("server rejected WebSocket connection: %s" % lines[0])
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
            accept = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()
            if fields.get("sec-websocket-accept") != accept:
                raise ValueError("bad Sec-WebSocket-Accept in the handshake response")
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        conn = cls(sock, max_size)
        conn._buf += extra
        return conn

    # ---- sending ----

    def send(self, message: Union[str, bytes], opcode: Optional[int] = None) -> None:
        data = message.encode("utf-8") if isinstance(message, str) else bytes(message)
        op = opcode if opcode is not None else (_TEXT if isinstance(message, str) else _BINARY)
        self._send_frame(op, data)

    def _send_frame(self, opcode: int, data: bytes) -> None:
        if self.closed is not None:
            raise self.closed
        n = len(data)
        if n < 126:
            header = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        at = self._mask_at
        if at >= len(self._masks):
            self._masks, at = os.urandom(1024), 0
        mask = self._masks[at:at + 4]
        self._mask_at = at + 4
        # XOR with the mask as one big integer: far faster in Python than a byte loop.
        m = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
        masked = (int.from_bytes(data, "little") ^ m).to_bytes(n, "little") if n else b""
        try:
            self.sock.sendall(header + mask + masked)
        except OSError as e:
            self._drop("send failed: %s" % e)
            raise self.closed  # type: ignore[misc]

    # ---- receiving ----

    def recv(self, timeout: Optional[float] = None) -> Union[str, bytes]:
        """The next text (str) or binary (bytes) message; answers pings; TimeoutError after `timeout` seconds."""
        # The step path: one whole unmasked, unfragmented text or binary frame already read, or arriving in one recv.
        buf = self._buf
        if not buf and self.closed is None and timeout is None:
            try:
                chunk = self.sock.recv(65536)
            except OSError as e:
                self._drop("receive failed: %s" % e)
                raise self.closed  # type: ignore[misc]
            if not chunk:
                self._drop("")
                raise self.closed  # type: ignore[misc]
            buf += chunk
        if len(buf) >= 2:
            b0, n = buf[0], buf[1]
            if b0 in (0x81, 0x82) and n < 127:  # FIN + text/binary, no mask, length < 65536
                at = 2
                if n == 126 and len(buf) >= 4:
                    n, at = (buf[2] << 8) | buf[3], 4
                if n < 126 or at == 4:
                    end = at + n
                    if len(buf) >= end and n <= self.max_size:
                        payload = bytes(buf[at:end])
                        del buf[:end]
                        return payload.decode("utf-8") if b0 == 0x81 else payload
        parts = []
        first_op = None
        while True:
            fin, op, payload = self._read_frame(timeout)
            if op == _PING:
                self._send_frame(_PONG, payload)
                continue
            if op == _PONG:
                continue
            if op == _CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                reason = payload[2:].decode("utf-8", "replace")
                try:
                    self._send_frame(_CLOSE, payload[:2])
                except WebSocketClosed:
                    pass
                self._finish(WebSocketClosed(code, reason))
                raise self.closed  # type: ignore[misc]
            if op != _CONT:
                first_op = op
            parts.append(payload)
            if fin:
                data = b"".join(parts) if len(parts) > 1 else parts[0]
                return data.decode("utf-8") if first_op == _TEXT else bytes(data)

    def _read_frame(self, timeout: Optional[float]) -> Tuple[bool, int, bytes]:
        head = self._need(2, timeout)
        b0, b1 = head[0], head[1]
        n = b1 & 0x7F
        at = 2
        if n == 126:
            n = struct.unpack("!H", bytes(self._need(4, timeout)[2:4]))[0]
            at = 4
        elif n == 127:
            n = struct.unpack("!Q", bytes(self._need(10, timeout)[2:10]))[0]
            at = 10
        if n > self.max_size:
            self._drop("message of %d bytes exceeds the %d byte limit" % (n, self.max_size), 1009)
            raise self.closed  # type: ignore[misc]
        masked = b1 & 0x80
        total = at + (4 if masked else 0) + n
        buf = self._need(total, timeout)
        payload = bytes(buf[total - n:total])
        if masked:  # servers do not mask, but accept it
            mask = bytes(buf[at:at + 4])
            m = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
            payload = (int.from_bytes(payload, "little") ^ m).to_bytes(n, "little")
        del self._buf[:total]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def _need(self, n: int, timeout: Optional[float]) -> bytearray:
        while len(self._buf) < n:
            if self.closed is not None:
                raise self.closed
            if timeout is not None:
                ready, _, _ = select.select([self.sock], [], [], timeout)
                if not ready:
                    raise TimeoutError("no message within %ss" % timeout)
            try:
                chunk = self.sock.recv(max(65536, n - len(self._buf)))
            except OSError as e:
                self._drop("receive failed: %s" % e)
                raise self.closed  # type: ignore[misc]
            if not chunk:
                self._drop("")
                raise self.closed  # type: ignore[misc]
            self._buf += chunk
        return self._buf

    # ---- closing ----

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Sends a close frame and waits briefly for the peer's, then closes the socket."""
        if self.closed is not None:
            return
        try:
            self._send_frame(_CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:120])
            while True:
                self.recv(2.0)
        except (WebSocketClosed, TimeoutError, OSError):
            pass
        self._finish(WebSocketClosed(code, reason))

    def _drop(self, why: str, code: int = 1006) -> None:
        self._finish(WebSocketClosed(code, why))

    def _finish(self, closed: WebSocketClosed) -> None:
        if self.closed is None:
            self.closed = closed
        try:
            self.sock.close()
        except OSError:
            pass
