"""The client reads the generated wire constants: the bridge's size cap is its own, and every close code has a hint."""
import json
import unittest

from fake_bridge import TOKEN, FakeBridge

from lockstep_client import CLOSE_HINTS, LockstepClient, LockstepConnectionClosed
from lockstep_client.wire import CLOSE, MAX_MESSAGE_BYTES


def state_of_size(frame, size):
    """A state message whose JSON text is exactly `size` bytes (padded through info)."""
    msg = {"type": "state", "frame": frame, "step": 0, "episode": 0, "timestamp": 0, "vars": {}, "reward": 0,
           "terminated": False, "truncated": False, "info": {"pad": ""}, "screen": False}
    msg["info"]["pad"] = "x" * (size - len(json.dumps(msg)))
    text = json.dumps(msg)
    assert len(text) == size
    return text


class WireTest(unittest.IsolatedAsyncioTestCase):
    async def test_the_client_takes_messages_up_to_the_bridges_cap_and_no_more(self):
        async def scenario(conn):
            if not await conn.authenticate():
                return
            await conn.ws.send(state_of_size(1, MAX_MESSAGE_BYTES))
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            client = LockstepClient()
            await client.connect(bridge.url, token=TOKEN)
            state = await client.recv_state(timeout=5)
            # The library refuses anything bigger (closing with 1009); that refusal takes its close timeout to finish.
            # websockets < 14 (Debian) keeps the cap on the connection, newer ones on its protocol object.
            cap = getattr(client._ws, "max_size", None) or client._ws.protocol.max_message_size
            self.assertEqual(cap, MAX_MESSAGE_BYTES)
            await client.close()
        self.assertEqual(state.frame, 1)
        self.assertEqual(bridge.errors, [])

    def test_every_close_code_of_the_protocol_has_a_hint(self):
        missing = sorted(name for name, code in CLOSE.items() if code not in CLOSE_HINTS)
        self.assertEqual(missing, [])


if __name__ == "__main__":
    unittest.main()
