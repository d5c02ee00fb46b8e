"""LockstepEnv: a synchronous, Gymnasium-compatible environment over the bridge's agent link (asyncio in a background thread)."""
import asyncio
import concurrent.futures
import logging
import os
import threading

from .buttons import resolve_action_set
from .client import LockstepClient, LockstepConnectionClosed, LockstepError, State, EpisodeEnd, make_url, normalize_screen
from .spaces import SpaceFactory

try:  # pragma: no cover - depends on the machine
    import gymnasium as _gym
    import numpy as _np_for_gym  # noqa: F401  (gymnasium needs it; so do our arrays)
    _EnvBase = _gym.Env
except ImportError:  # pragma: no cover
    _gym = None
    _EnvBase = object

try:  # pragma: no cover
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None

log = logging.getLogger("lockstep_client")

CONFIG_KEYS = frozenset([
    "url", "host", "port", "token", "player", "screen", "action_set", "observation", "name", "numpy",
    "connect_timeout", "step_timeout", "reconnect_attempts", "reconnect_delay",
])


class _LoopThread(object):
    """An asyncio loop on a daemon thread; run() submits a coroutine and waits for its result."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="lockstep-env-loop", daemon=True)
        self.thread.start()

    def _main(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro, timeout=None, what="the bridge"):
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise TimeoutError("no answer from %s within %ss (is the session paused or stopped?)" % (what, timeout)) from None

    def stop(self):
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


class LockstepEnv(_EnvBase):
    """One NES controller as a Gymnasium environment.

    config (a dict, as RLlib passes env_config) or keyword arguments:
      url | host + port   bridge address (default: $LOCKSTEP_URL); "ws://127.0.0.1:PORT/agent", "127.0.0.1:PORT" or a port
      token               session token (default: $LOCKSTEP_TOKEN)
      player              0 or 1 (controller 1 or 2); None = the first free controller
      screen              None, True/"rgba", "gray", or {"format": "rgba"|"gray", "downsample": 1|2|4|8}
      action_set          "simple" (default), "minimal", "full" (all 256 masks) or a list of combinations
      observation         "vector" (default: RAM-map vars in welcome order) or "dict" ({var: value})
      numpy               None (use numpy when importable), True or False (plain lists)
      connect_timeout     seconds to wait for the welcome (default 10)
      step_timeout        seconds step()/reset() wait for the bridge (default None: forever; a paused debugger holds frames)
      reconnect_attempts  reconnects after a dropped link (default 3); the bridge resends the held state
    """

    metadata = {"render_modes": []}
    render_mode = None

    def __init__(self, config=None, **overrides):
        cfg = dict(config or {})
        cfg.update(overrides)
        unknown = sorted(k for k in cfg if k not in CONFIG_KEYS)
        if unknown:
            log.warning("LockstepEnv ignores unknown config keys: %s", ", ".join(unknown))
        self._url = self._resolve_url(cfg)
        self._token = cfg.get("token") or os.environ.get("LOCKSTEP_TOKEN")
        if not self._token and "token=" not in self._url:
            raise ValueError("no session token: pass config 'token' or set LOCKSTEP_TOKEN (the bridge prints it when it starts)")
        self._player = cfg.get("player")
        if self._player not in (None, 0, 1):
            raise ValueError("config 'player' must be 0, 1 or None, got %r" % (self._player,))
        self._screen = normalize_screen(cfg.get("screen"))
        self._masks = resolve_action_set(cfg.get("action_set", "simple"))
        self._obs_mode = cfg.get("observation", "vector")
        if self._obs_mode not in ("vector", "dict"):
            raise ValueError("config 'observation' must be 'vector' or 'dict', got %r" % (self._obs_mode,))
        use_numpy = cfg.get("numpy")
        if use_numpy and _np is None:
            raise ValueError("config 'numpy' is true but numpy is not importable")
        self._np = _np if use_numpy is None or use_numpy else None
        self._name = cfg.get("name", "LockstepEnv")
        self._connect_timeout = float(cfg.get("connect_timeout", 10.0))
        self._step_timeout = cfg.get("step_timeout")
        self._reconnect_attempts = int(cfg.get("reconnect_attempts", 3))
        self._reconnect_delay = float(cfg.get("reconnect_delay", 0.5))

        self._state = None
        self._ended = True
        self._next_state = None
        self._last_obs = None
        self._closed = False
        self._loop = _LoopThread()
        self._client = LockstepClient(name=self._name, open_timeout=self._connect_timeout)
        try:
            self.welcome = self._loop.run(self._connect(self._player), self._connect_timeout + 5)
        except BaseException:
            self._loop.stop()
            raise
        self.vars = list(self.welcome["vars"])
        self.player = self.welcome["player"]
        self.max_steps = self.welcome["maxSteps"]
        self._build_spaces()

    # ---- Gymnasium API ----

    def reset(self, *, seed=None, options=None):
        """Waits for the first state of the next episode. Mid-episode, tells the bridge the episode is over first."""
        self._check_open()
        if _gym is not None and isinstance(self, _gym.Env):
            super(LockstepEnv, self).reset(seed=seed)
        if seed is not None:
            self.action_space.seed(seed)
        state = self._loop.run(self._reset(), self._step_timeout)
        self._state = state
        self._ended = False
        self._last_obs = self._observation(state)
        return self._last_obs, self._info(state)

    def step(self, action):
        """Presses the action's buttons for the held frame; returns (obs, reward, terminated, truncated, info)."""
        self._check_open()
        if self._ended or self._state is None:
            raise RuntimeError("the episode is over (or never started): call reset() before step()")
        mask = self._action_mask(action)
        kind, ev = self._loop.run(self._step(mask), self._step_timeout)
        if kind == "state":
            self._state = ev
            self._last_obs = self._observation(ev)
            return self._last_obs, ev.reward, False, False, self._info(ev)
        self._ended = True
        self._state = None
        info = {"episode_end": ev.as_dict(), "rows": ev.rows, "termination_frame": ev.termination_frame, "reason": ev.reason}
        # The bridge does not send the state after the last frame (the next episode starts instead): repeat the last one.
        reward = float(ev.raw.get("reward", 0.0))
        return self._last_obs, reward, ev.terminated, ev.truncated, info

    def close(self):
        if self._closed:
            return
        self._closed = True
        try:
            self._loop.run(self._client.close(), 5)
        except Exception as e:  # closing must not raise over a dead link
            log.debug("close: %s", e)
        self._loop.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- extras ----

    @property
    def action_masks(self):
        """Button mask pressed by each action index."""
        return list(self._masks)

    @property
    def client(self):
        """The LockstepClient underneath (its coroutines must run on this env's loop: use run_coroutine())."""
        return self._client

    def run_coroutine(self, coro, timeout=None):
        return self._loop.run(coro, timeout)

    def ping(self, timeout=5.0):
        """Round trip to the bridge in ms (also updates client.clock_offset_ms)."""
        return self._loop.run(self._client.ping(timeout), timeout + 1)

    def terminate(self):
        """Tells the bridge this trainer's episode is over at the held frame; the next step() returns terminated=True."""
        if self._state is not None:
            self._loop.run(self._client.terminate(self._state.frame), self._step_timeout)

    # ---- internals ----

    @staticmethod
    def _resolve_url(cfg):
        if cfg.get("url"):
            return make_url(cfg["url"])
        if cfg.get("port") is not None or cfg.get("host"):
            if cfg.get("port") is None:
                raise ValueError("config 'host' given without 'port'")
            return make_url(host=cfg.get("host"), port=cfg["port"])
        if os.environ.get("LOCKSTEP_URL"):
            return make_url(os.environ["LOCKSTEP_URL"])
        raise ValueError("no bridge address: pass config 'url' (or 'host'/'port') or set LOCKSTEP_URL")

    def _check_open(self):
        if self._closed:
            raise RuntimeError("LockstepEnv is closed")

    def _action_mask(self, action):
        if hasattr(action, "item"):  # numpy scalar or 0-d array
            action = action.item()
        if isinstance(action, bool) or not isinstance(action, int) or not 0 <= action < len(self._masks):
            raise ValueError("action must be an integer in 0..%d, got %r" % (len(self._masks) - 1, action))
        return self._masks[action]

    def _build_spaces(self):
        # gymnasium's Box.contains wants numpy arrays: with plain lists, use the look-alike spaces.
        spaces = SpaceFactory(_gym is not None and self._np is not None)
        inf = float("inf")
        self.action_space = spaces.discrete(len(self._masks))
        if self._obs_mode == "vector":
            vars_space = spaces.box(-inf, inf, (len(self.vars),), "float32")
        else:
            vars_space = spaces.dict({name: spaces.box(-inf, inf, (), "float32") for name in self.vars})
        screen = self.welcome.get("screen")
        if screen:
            f = screen["downsample"]
            self._screen_shape = (240 // f, 256 // f, 4) if screen["format"] == "rgba" else (240 // f, 256 // f)
            screen_space = spaces.box(0, 255, self._screen_shape, "uint8")
            self.observation_space = spaces.dict({"vars": vars_space, "screen": screen_space})
        else:
            self._screen_shape = None
            self.observation_space = vars_space

    def _observation(self, state):
        np = self._np
        if self._obs_mode == "vector":
            values = [float(state.vars.get(name, 0)) for name in self.vars]
            vars_obs = np.asarray(values, dtype=np.float32) if np else values
        else:
            vars_obs = {name: (np.asarray(float(state.vars.get(name, 0)), dtype=np.float32) if np else float(state.vars.get(name, 0)))
                        for name in self.vars}
        if self._screen_shape is None:
            return vars_obs
        return {"vars": vars_obs, "screen": self._screen_array(state)}

    def _screen_array(self, state):
        shape = self._screen_shape
        np = self._np
        frame = state.screen
        if frame is None or frame.shape != shape:
            return np.zeros(shape, dtype=np.uint8) if np else _nested(bytes(_size(shape)), shape)
        if np:
            return np.frombuffer(frame.pixels, dtype=np.uint8).reshape(shape).copy()
        return _nested(frame.pixels, shape)

    def _info(self, state):
        info = dict(state.info)
        info.update({"frame": state.frame, "step": state.step, "episode": state.episode, "timestamp": state.timestamp,
                     "player": self.player})
        if state.terminated or state.truncated:
            info.update({"state_terminated": state.terminated, "state_truncated": state.truncated})
        if self._screen_shape is not None and state.screen is None:
            info["screen_missing"] = True
        return info

    async def _connect(self, player):
        return await self._client.connect(self._url, token=self._token, player=player, screen=self._screen, name=self._name)

    async def _recv(self):
        """The next event; a dropped link is reconnected (same controller) and the bridge resends the held state."""
        while True:
            try:
                return await self._client.recv()
            except LockstepConnectionClosed as e:
                if not e.retryable or self._reconnect_attempts <= 0:
                    raise
                await self._reconnect(e)

    async def _reconnect(self, err):
        player = self.player
        last = err
        for attempt in range(1, self._reconnect_attempts + 1):
            log.warning("%s; reconnecting (attempt %d of %d)", last, attempt, self._reconnect_attempts)
            await asyncio.sleep(self._reconnect_delay)
            try:
                await self._connect(player)
                return
            except LockstepConnectionClosed as e:
                if not e.retryable:
                    raise
                last = e
            except LockstepError as e:
                last = e
        raise last

    async def _reset(self):
        if not self._ended and self._state is not None:
            await self._finish_episode(self._state)
        if self._next_state is not None:
            state, self._next_state = self._next_state, None
            return state
        while True:
            ev = await self._recv()
            if isinstance(ev, State):
                return ev
            # An episode_end here belongs to an episode already over for us (e.g. after terminate()).

    async def _finish_episode(self, state):
        """reset() mid-episode: terminate at the held frame, answer it, and wait for the bridge's episode_end."""
        episode = state.episode
        await self._client.terminate(state.frame)
        await self._client.send_action(state.frame, 0)
        while True:
            ev = await self._recv()
            if isinstance(ev, EpisodeEnd):
                return
            if ev.episode != episode:
                self._next_state = ev
                return
            await self._client.send_action(ev.frame, 0)

    async def _step(self, mask):
        s = self._state
        await self._client.send_action(s.frame, mask)
        while True:
            ev = await self._recv()
            if isinstance(ev, EpisodeEnd):
                return "end", ev
            if ev.episode != s.episode:
                # The episode ended while the link was down: its episode_end never reached us.
                self._next_state = ev
                return "end", EpisodeEnd({"episode": s.episode, "terminationFrame": s.frame, "rows": s.step + 1,
                                          "reason": "stopped", "missed": True})
            if ev.frame == s.frame:
                # The held state again (after a reconnect or resync): our answer may have been lost, so answer it again.
                await self._client.send_action(s.frame, mask)
                continue
            return "state", ev


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _nested(flat, shape):
    """Flat bytes to nested lists of the given shape (the no-numpy observation)."""
    if len(shape) == 2:
        h, w = shape
        return [list(flat[r * w:(r + 1) * w]) for r in range(h)]
    h, w, c = shape
    rows = []
    for r in range(h):
        base = r * w * c
        rows.append([list(flat[base + x * c: base + (x + 1) * c]) for x in range(w)])
    return rows
