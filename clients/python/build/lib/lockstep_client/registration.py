"""Gymnasium ids registered on import: lockstep/Catch-v0 (the bundled demo ROM) and lockstep/Rom-v0 (any ROM, rom=...)."""
from typing import Any

from .env import LockstepEnv

CATCH_ID = "lockstep/Catch-v0"
ROM_ID = "lockstep/Rom-v0"


def rom_env(rom: Any = None, **kwargs: Any) -> LockstepEnv:
    """lockstep/Rom-v0: a LockstepEnv on the ROM given as rom=... (its RAM map beside it, or ram_map=...)."""
    if rom is None:
        raise ValueError("%s needs rom=PATH (for the bundled demo ROM use %s)" % (ROM_ID, CATCH_ID))
    return LockstepEnv(rom=rom, **kwargs)


def register_envs() -> bool:
    """Registers both ids with Gymnasium once; False when Gymnasium is not installed."""
    try:
        import gymnasium
    except ImportError:
        return False
    # make() returns the env itself: it enforces reset-before-step on its own and passes Gymnasium's full check_env
    # (tested), so the passive checker and OrderEnforcing wrappers would only add a per-step cost. Callers can still
    # ask for them (disable_env_checker=False).
    plain = {"disable_env_checker": True, "order_enforce": False}
    if CATCH_ID not in gymnasium.registry:
        gymnasium.register(id=CATCH_ID, entry_point="lockstep_client.env:LockstepEnv", **plain)
    if ROM_ID not in gymnasium.registry:
        gymnasium.register(id=ROM_ID, entry_point="lockstep_client.registration:rom_env", **plain)
    return True
