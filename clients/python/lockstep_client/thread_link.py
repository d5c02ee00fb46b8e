"""ThreadLink: LockstepSyncClient's interface over the asyncio LockstepClient on a loop thread, for websockets < 12."""
import asyncio
import concurrent.futures
import threading
from typing import Any, Dict, List, Optional, Union

from .client import EpisodeEnd, LockstepClient, State


class ThreadLink(object):
    """Slower than LockstepSyncClient (two thread hand-offs per message); used only where websockets.sync is missing."""

    def __init__(self, name: str = "lockstep_client", open_timeout: float = 10.0) -> None:
        self._client = LockstepClient(name=name, open_timeout=open_timeout)
        self._open_timeout = open_timeout
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="lockstep-env-loop", daemon=True)
        self.thread.start()
        self.welcome: Optional[Dict[str, Any]] = None

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _run(self, coro: Any, timeout: Optional[float] = None) -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise TimeoutError("no answer from the bridge within %ss" % timeout) from None

    def connect(self, url: str, token: Optional[str] = None, player: Optional[int] = None, screen: Any = None,
                name: Optional[str] = None, frameskip: Optional[int] = None) -> Dict[str, Any]:
        self.welcome = self._run(self._client.connect(url, token=token, player=player, screen=screen, name=name, frameskip=frameskip),
                                 self._open_timeout + 5)
        return self.welcome

    def recv(self, timeout: Optional[float] = None) -> Union[State, EpisodeEnd]:
        return self._run(self._client.recv(), timeout)

    def send_action(self, frame: int, buttons: Union[int, List[str]], info: Optional[Dict[str, Any]] = None) -> None:
        self._run(self._client.send_action(frame, buttons, info))

    def terminate(self, frame: int) -> None:
        self._run(self._client.terminate(frame))

    def ping(self, timeout: float = 5.0) -> float:
        return self._run(self._client.ping(timeout), timeout + 1)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        try:
            self._run(self._client.close(), 5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            if not self.thread.is_alive():
                self.loop.close()
