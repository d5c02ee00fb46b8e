"""WebSocketConnection's frame reading and writing on a real socket pair: every length form, fragments, pings, masking."""
import os
import socket
import struct
import threading
import unittest

from lockstep_client.wsconn import WebSocketClosed, WebSocketConnection


def server_frame(payload, opcode=0x1, fin=True):
    """A frame as a server sends it: unmasked."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | opcode
    if n < 126:
        head = struct.pack("!BB", b0, n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 126, n)
    else:
        head = struct.pack("!BBQ", b0, 127, n)
    return head + payload


def read_client_frame(sock):
    """One frame as the client sent it: (opcode, unmasked payload); checks the mask bit is set."""
    def exactly(n):
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out
    b0, b1 = exactly(2)
    assert b1 & 0x80, "client frames must be masked"
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", exactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", exactly(8))[0]
    mask = exactly(4)
    data = exactly(n)
    return b0 & 0x0F, bytes(c ^ mask[i % 4] for i, c in enumerate(data))


class WebSocketConnectionTest(unittest.TestCase):
    def setUp(self):
        self.client_sock, self.server = socket.socketpair()
        self.addCleanup(self.server.close)
        self.ws = WebSocketConnection(self.client_sock, 1 << 21)
        self.addCleanup(self.ws._finish, WebSocketClosed(1000))

    def feed(self, data):
        # From a thread: a payload bigger than the socket buffer would block a plain sendall here.
        t = threading.Thread(target=self.server.sendall, args=(data,))
        t.start()
        self.addCleanup(t.join, 5)

    def test_every_length_form_text_and_binary_in_one_read_or_split(self):
        payloads = [(b"", 0x1), (b'{"type":"state"}', 0x1), (os.urandom(125), 0x2), (os.urandom(126), 0x2),
                    (os.urandom(65535), 0x2), (os.urandom(65536), 0x2), ("é".encode() * 200, 0x1)]
        self.feed(b"".join(server_frame(p, op) for p, op in payloads))
        for p, op in payloads:
            got = self.ws.recv()
            self.assertEqual(got, p.decode("utf-8") if op == 0x1 else p)

    def test_fragments_with_a_ping_between_them_and_the_pong_answer(self):
        self.feed(server_frame(b"hel", 0x1, fin=False) + server_frame(b"p1", 0x9) + server_frame(b"lo", 0x0))
        self.assertEqual(self.ws.recv(), "hello")
        self.assertEqual(read_client_frame(self.server), (0xA, b"p1"))

    def test_sent_frames_are_masked_with_fresh_keys_and_unmask_to_the_message(self):
        for text in ("a", "x" * 125, "y" * 126, "z" * 70000):
            self.ws.send(text)
            self.assertEqual(read_client_frame(self.server), (0x1, text.encode()))
        keys = set()
        for _ in range(300):  # past the first batch of keys
            self.ws.send("k")
            keys.add(self.ws._masks[self.ws._mask_at - 4:self.ws._mask_at])
            read_client_frame(self.server)
        self.assertGreater(len(keys), 250)

    def test_a_frame_over_the_size_cap_closes_with_1009(self):
        small = WebSocketConnection(self.client_sock, 100)
        self.feed(server_frame(b"x" * 101, 0x2))
        with self.assertRaises(WebSocketClosed) as ctx:
            small.recv()
        self.assertEqual(ctx.exception.code, 1009)

    def test_the_peer_closing_is_reported_with_its_code_and_reason(self):
        self.feed(server_frame(struct.pack("!H", 4001) + b"invalid session token", 0x8))
        with self.assertRaises(WebSocketClosed) as ctx:
            self.ws.recv()
        self.assertEqual((ctx.exception.code, ctx.exception.reason), (4001, "invalid session token"))

    def test_a_timeout_with_nothing_waiting(self):
        with self.assertRaises(TimeoutError):
            self.ws.recv(0.05)


if __name__ == "__main__":
    unittest.main()
