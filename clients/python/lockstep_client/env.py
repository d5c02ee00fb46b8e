"""LockstepEnv: one NES controller as a Gymnasium environment, over a synchronous agent link to `lockstep serve`."""
import logging
import os
import time
from typing import Any, Dict, List, Optional, Tuple

from .buttons import resolve_action_set
from .client import EpisodeEnd, LockstepConnectionClosed, LockstepError, State, make_url, normalize_screen
from .server import LockstepServer, LockstepServerError
from .spaces import SpaceFactory
from .sync_client import LockstepSyncClient

try:  # pragma: no cover - depends on the machine
    import gymnasium as _gym
    import numpy as _np_for_gym  # noqa: F401  (gymnasium needs it; so do our arrays)
    _EnvBase: Any = _gym.Env
except ImportError:  # pragma: no cover
    _gym = None
    _EnvBase = object

try:  # pragma: no cover
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None

log = logging.getLogger("lockstep_client")

#: keys that pick an already running session to connect to
CONNECT_KEYS = frozenset(["url", "host", "port", "token"])
#: keys passed to the `lockstep serve` the env starts
SERVE_KEYS = frozenset(["rom", "ram_map", "emulator", "record", "max_steps", "lockstep_cli", "serve_args", "startup_timeout",
                        "unix_socket", "embedded_thread"])
CONFIG_KEYS = CONNECT_KEYS | SERVE_KEYS | frozenset([
    "player", "screen", "action_set", "observation", "name", "numpy", "connect_timeout", "step_timeout",
    "reconnect_attempts", "reconnect_delay", "render_mode", "session_info", "frameskip",
])

NES_HEIGHT, NES_WIDTH = 240, 256


class LockstepEnv(_EnvBase):
    """One NES controller as a Gymnasium environment.

    With no address, the env starts its own `lockstep serve` (stopped on close() and at exit):
      rom, ram_map        ROM and RAM map (default: the CLI's bundled demo ROM, and <rom>.rammap.json)
      emulator            "embedded" (default) or "fceux"
      record              a folder for episode recordings
      max_steps           rows per episode (truncation)
      lockstep_cli        path to the CLI's cli.js or a `lockstep` executable (default: $LOCKSTEP_CLI, then `lockstep` on PATH)
      serve_args          more `lockstep serve` arguments, e.g. ["--sync", "frameTimeoutMs=250"]
      embedded_thread     "main" (default): the embedded emulator runs on the server's own thread, no thread hand-off
                          per frame; "worker": on a worker thread, as `lockstep serve` does by default
      unix_socket         True (default where the OS has them): talk to it over a private Unix-domain socket, which costs
                          a fraction of loopback TCP per message; False: over its 127.0.0.1 port like any trainer
    To join a session already running (e.g. a VS Code debug session), give its address instead:
      url | host + port   "ws://127.0.0.1:PORT/agent", "127.0.0.1:PORT" or a port (or $LOCKSTEP_URL when nothing else is given)
      token               session token (default: $LOCKSTEP_TOKEN)
    Either way:
      player              0 or 1 (controller 1 or 2); None = the first free controller
      screen              None, True/"rgba", "gray", or {"format": "rgba"|"gray", "downsample": 1|2|4|8}
      render_mode         None or "rgb_array" (render() returns the 240x256x3 screen)
      frameskip           k >= 1: each step holds its action for k frames (the bridge runs them without round trips, records
                          every frame's row marked repeated, sums the rewards and returns the k-th state); info["frames"]
      action_set          "simple" (default), "minimal", "full" (all 256 masks) or a list of combinations
      observation         "vector" (default: RAM-map vars in welcome order) or "dict" ({var: value})
      numpy               None (use numpy when importable), True or False (plain lists)
      session_info        True adds the episode number and the bridge's timestamp to info (they differ between runs)
      connect_timeout     seconds to wait for the welcome (default 10)
      step_timeout        seconds step()/reset() wait for the bridge (default None: forever; a paused debugger holds frames)
      reconnect_attempts  reconnects after a dropped link (default 3); the bridge resends the held state
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(self, config: Optional[Dict[str, Any]] = None, **overrides: Any) -> None:
        cfg = dict(config or {})
        cfg.update(overrides)
        unknown = sorted(k for k in cfg if k not in CONFIG_KEYS)
        if unknown:
            raise ValueError("LockstepEnv: unknown config keys: %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(CONFIG_KEYS))))
        self.render_mode: Optional[str] = cfg.get("render_mode")
        if self.render_mode not in (None, "rgb_array"):
            raise ValueError("render_mode must be None or 'rgb_array', got %r" % (self.render_mode,))
        self._player = cfg.get("player")
        if self._player not in (None, 0, 1):
            raise ValueError("config 'player' must be 0, 1 or None, got %r" % (self._player,))
        self._obs_screen = normalize_screen(cfg.get("screen"))
        # Rendering needs the full screen: ask the bridge for it and derive a smaller observation screen here.
        self._screen = {"format": "rgba", "downsample": 1} if self.render_mode == "rgb_array" else self._obs_screen
        self._masks = resolve_action_set(cfg.get("action_set", "simple"))
        self._obs_mode = cfg.get("observation", "vector")
        if self._obs_mode not in ("vector", "dict"):
            raise ValueError("config 'observation' must be 'vector' or 'dict', got %r" % (self._obs_mode,))
        use_numpy = cfg.get("numpy")
        if use_numpy and _np is None:
            raise ValueError("config 'numpy' is true but numpy is not importable")
        self._np = _np if use_numpy is None or use_numpy else None
        if self.render_mode and self._np is None:
            raise ValueError("render_mode='rgb_array' needs numpy")
        self._name = cfg.get("name", "LockstepEnv")
        self._session_info = bool(cfg.get("session_info", False))
        self._frameskip = cfg.get("frameskip", 1)
        if isinstance(self._frameskip, bool) or not isinstance(self._frameskip, int) or not 1 <= self._frameskip <= 64:
            raise ValueError("config 'frameskip' must be an integer 1..64, got %r" % (self._frameskip,))
        self._connect_timeout = float(cfg.get("connect_timeout", 10.0))
        self._step_timeout = cfg.get("step_timeout")
        self._reconnect_attempts = int(cfg.get("reconnect_attempts", 3))
        self._reconnect_delay = float(cfg.get("reconnect_delay", 0.5))

        self._state: Optional[State] = None
        self._ended = True
        self._next_state: Optional[State] = None
        self._render_state: Optional[State] = None
        self._closed = False
        self.server: Optional[LockstepServer] = None
        self._url, self._token = self._address(cfg)
        self._unix_socket: Optional[str] = self.server.socket_path if self.server is not None else None
        self._client = LockstepSyncClient(name=self._name, open_timeout=self._connect_timeout)
        try:
            self.welcome = self._call(lambda: self._client.connect(self._url, token=self._token, player=self._player,
                                                                   screen=self._screen, name=self._name, frameskip=self._frameskip,
                                                                   unix_socket=self._unix_socket))
        except BaseException:
            self._stop_server()
            raise
        self.vars: List[str] = list(self.welcome["vars"])
        self.player: int = self.welcome["player"]
        self.max_steps: Optional[int] = self.welcome["maxSteps"]
        #: the bridge's episode number of the current episode
        self.episode: Optional[int] = None
        self._build_spaces()

    # ---- Gymnasium API ----

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None) -> Tuple[Any, Dict[str, Any]]:
        """The first state of the next episode. Mid-episode, tells the bridge the episode is over first.

        The emulator is deterministic: every episode starts from the same machine state, so `seed` only seeds the
        action space (and np_random) for reproducible sampling.
        """
        self._check_open()
        if _gym is not None and isinstance(self, _gym.Env):
            super(LockstepEnv, self).reset(seed=seed)
        if seed is not None:
            self.action_space.seed(seed)
        state = self._call(self._reset)
        self._state = state
        self._render_state = state
        self._ended = False
        self.episode = state.episode
        return self._observation(state), self._info(state)

    def step(self, action: Any) -> Tuple[Any, float, bool, bool, Dict[str, Any]]:
        """Presses the action's buttons for the held frame; returns (obs, reward, terminated, truncated, info).

        On an episode's last step the observation is the state after its last frame (from the bridge's episode_end),
        and info carries the same keys as on every other step plus "episode_end".
        """
        self._check_open()
        if self._ended or self._state is None:
            raise RuntimeError("the episode is over (or never started): call reset() before step()")
        mask = self._action_mask(action)
        kind, ev = self._call(lambda: self._step(mask))
        if kind == "state":
            self._state = ev
            self._render_state = ev
            return self._observation(ev), ev.reward, False, False, self._info(ev)
        end: EpisodeEnd = ev
        self._ended = True
        last = self._state
        self._state = None
        final = end.final if end.final is not None else _missed_final(last, end)
        self._render_state = final
        info = self._info(final)
        info["episode_end"] = {"terminationFrame": end.termination_frame, "rows": end.rows, "reason": end.reason}
        if end.final is None:
            info["final_missing"] = True  # an older bridge: the observation repeats the last state
        return self._observation(final), float(end.raw.get("reward", 0.0)), end.terminated, end.truncated, info

    def render(self) -> Any:
        """The screen of the state the last reset()/step() returned, as a 240x256x3 uint8 array (render_mode="rgb_array")."""
        if self.render_mode != "rgb_array":
            if _gym is not None:
                _gym.logger.warn("LockstepEnv.render() needs render_mode='rgb_array' when the env is made")
            return None
        s = self._render_state
        if s is None or s.screen is None:
            return _np.zeros((NES_HEIGHT, NES_WIDTH, 3), dtype=_np.uint8)
        rgba = _np.frombuffer(s.screen.pixels, dtype=_np.uint8).reshape(NES_HEIGHT, NES_WIDTH, 4)
        return rgba[:, :, :3].copy()

    def close(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        try:
            self._client.close()
        except Exception as e:  # closing must not raise over a dead link
            log.debug("close: %s", e)
        self._stop_server()

    def __enter__(self) -> "LockstepEnv":
        return self

    def __exit__(self, *exc: Any) -> bool:
        self.close()
        return False

    def __del__(self) -> None:  # pragma: no cover - best effort; close() and atexit are the real paths
        try:
            self.close()
        except Exception:
            pass

    # ---- extras ----

    def action_masks(self) -> Any:
        """Which actions are valid now (all of them: every button combination can be pressed), the maskable-PPO convention."""
        n = len(self._masks)
        return _np.ones(n, dtype=bool) if self._np is not None else [True] * n

    @property
    def button_masks(self) -> List[int]:
        """The NES button mask each action index presses."""
        return list(self._masks)

    @property
    def client(self) -> LockstepSyncClient:
        """The link underneath (blocking, no threads): use it only between steps."""
        return self._client

    def ping(self, timeout: float = 5.0) -> float:
        """Round trip to the bridge in ms, between steps (also updates client.clock_offset_ms)."""
        return self._client.ping(timeout)

    def terminate(self) -> None:
        """Tells the bridge this trainer's episode is over at the held frame; the next step() returns terminated=True."""
        if self._state is not None:
            self._call(lambda: self._client.terminate(self._state.frame))

    # ---- internals ----

    def _address(self, cfg: Dict[str, Any]) -> Tuple[str, Optional[str]]:
        """Connect to a given session, or start `lockstep serve` and connect to it."""
        given = [k for k in ("url", "host", "port") if cfg.get(k) is not None]
        serve = [k for k in SERVE_KEYS if cfg.get(k) is not None]
        if given and serve:
            raise ValueError("config gives both an address (%s) and server settings (%s): the env either connects to a running "
                             "session or starts its own" % (", ".join(given), ", ".join(sorted(serve))))
        if given or (not serve and os.environ.get("LOCKSTEP_URL")):
            url = self._resolve_url(cfg)
            token = cfg.get("token") or os.environ.get("LOCKSTEP_TOKEN")
            if not token and "token=" not in url:
                raise ValueError("no session token: pass config 'token' or set LOCKSTEP_TOKEN (the bridge prints it when it starts)")
            return url, token
        self.server = LockstepServer(
            rom=cfg.get("rom"), ram_map=cfg.get("ram_map"), emulator=cfg.get("emulator"), record=cfg.get("record"),
            max_steps=cfg.get("max_steps"), lockstep_cli=cfg.get("lockstep_cli"), extra_args=cfg.get("serve_args") or (),
            startup_timeout=float(cfg.get("startup_timeout", 60.0)), unix_socket=bool(cfg.get("unix_socket", True)),
            embedded_thread=cfg.get("embedded_thread"))
        return self.server.url, self.server.token

    @staticmethod
    def _resolve_url(cfg: Dict[str, Any]) -> str:
        if cfg.get("url"):
            return make_url(cfg["url"])
        if cfg.get("port") is not None or cfg.get("host"):
            if cfg.get("port") is None:
                raise ValueError("config 'host' given without 'port'")
            return make_url(host=cfg.get("host"), port=cfg["port"])
        return make_url(os.environ["LOCKSTEP_URL"])

    def _stop_server(self) -> None:
        if self.server is not None:
            self.server.stop()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("LockstepEnv is closed")

    def _call(self, fn: Any) -> Any:
        """Runs a link operation; when the env's own server died, says so (with its exit code and last log lines)."""
        try:
            return fn()
        except (LockstepError, OSError, TimeoutError) as e:
            server = self.server
            if server is not None and server.exited(1.0):
                raise LockstepServerError(server.exit_message()) from e
            raise

    def _action_mask(self, action: Any) -> int:
        if hasattr(action, "item"):  # numpy scalar or 0-d array
            action = action.item()
        if isinstance(action, bool) or not isinstance(action, int) or not 0 <= action < len(self._masks):
            raise ValueError("action must be an integer in 0..%d, got %r" % (len(self._masks) - 1, action))
        return self._masks[action]

    def _build_spaces(self) -> None:
        # gymnasium's Box.contains wants numpy arrays: with plain lists, use the look-alike spaces.
        spaces = SpaceFactory(_gym is not None and self._np is not None)
        ranges = self.welcome.get("varRanges")
        if not ranges or len(ranges) != len(self.vars):
            ranges = [(float("-inf"), float("inf"))] * len(self.vars)
        self.action_space = spaces.discrete(len(self._masks))
        if self._obs_mode == "vector":
            if spaces.gymnasium:
                low = _np.array([r[0] for r in ranges], dtype=_np.float32)
                high = _np.array([r[1] for r in ranges], dtype=_np.float32)
                vars_space = _gym.spaces.Box(low=low, high=high, dtype=_np.float32)
            else:
                vars_space = spaces.box(min(r[0] for r in ranges) if ranges else 0, max(r[1] for r in ranges) if ranges else 0,
                                        (len(self.vars),), "float32")
        else:
            vars_space = spaces.dict({name: spaces.box(r[0], r[1], (), "float32") for name, r in zip(self.vars, ranges)})
        screen = self._obs_screen
        if screen:
            f = screen["downsample"]
            self._screen_shape: Optional[Tuple[int, ...]] = (
                (NES_HEIGHT // f, NES_WIDTH // f, 4) if screen["format"] == "rgba" else (NES_HEIGHT // f, NES_WIDTH // f))
            screen_space = spaces.box(0, 255, self._screen_shape, "uint8")
            self.observation_space = spaces.dict({"vars": vars_space, "screen": screen_space})
        else:
            self._screen_shape = None
            self.observation_space = vars_space

    def _observation(self, state: State) -> Any:
        np = self._np
        if self._obs_mode == "vector":
            vars_obs: Any = None
            if np and len(state.vars) == len(self.vars):
                try:  # every variable there (the usual case): straight into the array, no intermediate list
                    vars_obs = np.fromiter(map(state.vars.__getitem__, self.vars), dtype=np.float32, count=len(self.vars))
                except (KeyError, TypeError, ValueError):
                    vars_obs = None
            if vars_obs is None:
                values = [float(state.vars.get(name, 0)) for name in self.vars]
                vars_obs = np.asarray(values, dtype=np.float32) if np else values
        else:
            vars_obs = {name: (np.asarray(float(state.vars.get(name, 0)), dtype=np.float32) if np else float(state.vars.get(name, 0)))
                        for name in self.vars}
        if self._screen_shape is None:
            return vars_obs
        return {"vars": vars_obs, "screen": self._screen_array(state)}

    def _screen_array(self, state: State) -> Any:
        shape = self._screen_shape
        np = self._np
        frame = state.screen
        if frame is not None and frame.shape != shape and self._screen != self._obs_screen:
            return _downsample(frame, self._obs_screen)
        if frame is None or frame.shape != shape:
            return np.zeros(shape, dtype=np.uint8) if np else _nested(bytes(_size(shape)), shape)
        if np:
            return np.frombuffer(frame.pixels, dtype=np.uint8).reshape(shape).copy()
        return _nested(frame.pixels, shape)

    def _info(self, state: State) -> Dict[str, Any]:
        # Only what the same seed and actions reproduce (Gymnasium checks it): frame ids restart with every episode's
        # start state, episode numbers and wall-clock timestamps do not (session_info=True adds them).
        info = dict(state.info)
        info.update({"frame": state.frame, "step": state.step, "player": self.player, "frames": state.frames})
        if self._session_info:
            info.update({"episode": state.episode, "timestamp": state.timestamp})
        if state.terminated or state.truncated:
            info.update({"state_terminated": state.terminated, "state_truncated": state.truncated})
        if self._screen_shape is not None and state.screen is None:
            info["screen_missing"] = True
        return info

    def _connect(self) -> None:
        self._client.connect(self._url, token=self._token, player=self.player, screen=self._screen, name=self._name,
                             frameskip=self._frameskip, unix_socket=self._unix_socket)

    def _recv(self) -> Any:
        """The next event; a dropped link is reconnected (same controller) and the bridge resends the held state."""
        while True:
            try:
                return self._client.recv(self._step_timeout)
            except LockstepConnectionClosed as e:
                if not e.retryable or self._reconnect_attempts <= 0 or (self.server is not None and self.server.returncode is not None):
                    raise
                self._reconnect(e)

    def _reconnect(self, err: LockstepError) -> None:
        last = err
        for attempt in range(1, self._reconnect_attempts + 1):
            log.warning("%s; reconnecting (attempt %d of %d)", last, attempt, self._reconnect_attempts)
            time.sleep(self._reconnect_delay)
            try:
                self._connect()
                return
            except LockstepConnectionClosed as e:
                if not e.retryable:
                    raise
                last = e
            except LockstepError as e:
                last = e
        raise last

    def _reset(self) -> State:
        if not self._ended and self._state is not None:
            self._finish_episode(self._state)
        if self._next_state is not None:
            state, self._next_state = self._next_state, None
            return state
        while True:
            ev = self._recv()
            if isinstance(ev, State):
                return ev
            # An episode_end here belongs to an episode already over for us (e.g. after terminate()).

    def _finish_episode(self, state: State) -> None:
        """reset() mid-episode: terminate at the held frame, answer it, and wait for the bridge's episode_end."""
        episode = state.episode
        self._client.terminate(state.frame)
        self._client.send_action(state.frame, 0)
        while True:
            ev = self._recv()
            if isinstance(ev, EpisodeEnd):
                return
            if ev.episode != episode:
                self._next_state = ev
                return
            self._client.send_action(ev.frame, 0)

    def _step(self, mask: int) -> Tuple[str, Any]:
        s = self._state
        assert s is not None
        self._client.send_action(s.frame, mask)
        while True:
            ev = self._recv()
            if isinstance(ev, EpisodeEnd):
                return "end", ev
            if ev.episode != s.episode:
                # The episode ended while the link was down: its episode_end never reached us.
                self._next_state = ev
                return "end", EpisodeEnd({"episode": s.episode, "terminationFrame": s.frame, "rows": s.step + 1,
                                          "reason": "stopped", "missed": True})
            if ev.frame == s.frame:
                # The held state again (after a reconnect or resync): our answer may have been lost, so answer it again.
                self._client.send_action(s.frame, mask)
                continue
            return "state", ev


def _missed_final(last: Optional[State], end: EpisodeEnd) -> State:
    """No final state from the bridge (an older one, or an end missed while the link was down): the last state stands in."""
    if last is None:
        raise LockstepError("episode %d ended with no state to return" % end.episode)
    return last


def _downsample(frame: Any, req: Dict[str, Any]) -> Any:
    """The bridge's screen downsampling (box average; gray = BT.601 luma, rounded half up), done here from the full screen."""
    np = _np
    f = req["downsample"]
    rgba = np.frombuffer(frame.pixels, dtype=np.uint8).reshape(NES_HEIGHT, NES_WIDTH, 4).astype(np.float64)
    boxes = rgba.reshape(NES_HEIGHT // f, f, NES_WIDTH // f, f, 4).sum(axis=(1, 3))
    if req["format"] == "gray":
        luma = (0.299 * boxes[..., 0] + 0.587 * boxes[..., 1] + 0.114 * boxes[..., 2]) / (f * f)
        return np.floor(luma + 0.5).astype(np.uint8)
    return np.floor(boxes / (f * f) + 0.5).astype(np.uint8)


def _size(shape: Tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _nested(flat: bytes, shape: Tuple[int, ...]) -> List[Any]:
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
