"""Action/observation spaces: gymnasium.spaces when gymnasium is importable, else small look-alikes (.n, .shape, .sample())."""
import math
import random

try:  # pragma: no cover - depends on the machine
    import gymnasium as _gym
except ImportError:  # pragma: no cover
    _gym = None

try:  # pragma: no cover
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None


class Discrete(object):
    """Integers 0..n-1, like gymnasium.spaces.Discrete."""

    def __init__(self, n, seed=None):
        if not isinstance(n, int) or n < 1:
            raise ValueError("Discrete needs n >= 1, got %r" % (n,))
        self.n = n
        self.shape = ()
        self.dtype = "int64"
        self._rng = random.Random(seed)

    def seed(self, seed=None):
        self._rng = random.Random(seed)
        return [seed]

    def sample(self):
        return self._rng.randrange(self.n)

    def contains(self, x):
        return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < self.n

    __contains__ = contains

    def __repr__(self):
        return "Discrete(%d)" % self.n


class Box(object):
    """A box of numbers with a shape, like gymnasium.spaces.Box (values here are nested lists)."""

    def __init__(self, low, high, shape, dtype="float32", seed=None):
        self.low = low
        self.high = high
        self.shape = tuple(shape)
        self.dtype = dtype
        self._rng = random.Random(seed)

    def seed(self, seed=None):
        self._rng = random.Random(seed)
        return [seed]

    def _one(self):
        if self.dtype == "uint8":
            return self._rng.randrange(int(self.low), int(self.high) + 1)
        lo = self.low if math.isfinite(self.low) else -1e6
        hi = self.high if math.isfinite(self.high) else 1e6
        return self._rng.uniform(lo, hi)

    def sample(self):
        def build(dims):
            if not dims:
                return self._one()
            return [build(dims[1:]) for _ in range(dims[0])]
        return build(self.shape)

    def contains(self, x):
        if hasattr(x, "tolist"):  # a numpy array or scalar
            x = x.tolist()

        def check(v, dims):
            if not dims:
                return isinstance(v, (int, float)) and not isinstance(v, bool) and self.low <= v <= self.high
            return isinstance(v, (list, tuple)) and len(v) == dims[0] and all(check(e, dims[1:]) for e in v)
        return check(x, self.shape)

    __contains__ = contains

    def __repr__(self):
        return "Box(%s, %s, %s, %s)" % (self.low, self.high, self.shape, self.dtype)


class Dict(object):
    """Named sub-spaces, like gymnasium.spaces.Dict."""

    def __init__(self, spaces):
        self.spaces = dict(spaces)
        self.shape = None

    def seed(self, seed=None):
        for i, s in enumerate(self.spaces.values()):
            s.seed(None if seed is None else seed + i)
        return [seed]

    def sample(self):
        return {k: s.sample() for k, s in self.spaces.items()}

    def contains(self, x):
        return isinstance(x, dict) and set(x) == set(self.spaces) and all(s.contains(x[k]) for k, s in self.spaces.items())

    __contains__ = contains

    def __getitem__(self, key):
        return self.spaces[key]

    def __repr__(self):
        return "Dict(%s)" % ", ".join("%s: %r" % kv for kv in self.spaces.items())


class SpaceFactory(object):
    """Builds spaces with gymnasium (and numpy arrays) when both are usable, else with the look-alikes above."""

    def __init__(self, use_gymnasium=None):
        available = _gym is not None and _np is not None
        if use_gymnasium and not available:
            raise ValueError("gymnasium spaces asked for, but gymnasium and numpy are not both importable")
        self.gymnasium = available if use_gymnasium is None else bool(use_gymnasium)

    def discrete(self, n):
        return _gym.spaces.Discrete(n) if self.gymnasium else Discrete(n)

    def box(self, low, high, shape, dtype):
        if self.gymnasium:
            return _gym.spaces.Box(low=low, high=high, shape=tuple(shape), dtype=getattr(_np, dtype))
        return Box(low, high, shape, dtype)

    def dict(self, spaces):
        return _gym.spaces.Dict(spaces) if self.gymnasium else Dict(spaces)
