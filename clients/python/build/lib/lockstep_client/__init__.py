"""Python trainer client for Lockstep: LockstepEnv (Gymnasium), LockstepSyncClient and LockstepClient (asyncio), the link below."""
import logging

from .buttons import ACTION_SETS, BUTTON_NAMES, BUTTONS, mask_to_names, names_to_mask, resolve_action_set
from .client import (
    CLOSE_HINTS,
    PROTOCOL_VERSION,
    EpisodeEnd,
    LockstepClient,
    LockstepConnectionClosed,
    LockstepError,
    State,
    make_url,
)
from .env import LockstepEnv
from .registration import CATCH_ID, ROM_ID, register_envs
from .server import LockstepServer, LockstepServerError, find_cli
from .sync_client import LockstepSyncClient
from .screen import ScreenFrame, decode_screen_frame

__version__ = "0.1.0"

# A library leaves log output to the application (logging.basicConfig() shows reconnects and bridge errors).
logging.getLogger("lockstep_client").addHandler(logging.NullHandler())

# gymnasium.make("lockstep/Catch-v0") works once this package is imported.
register_envs()

__all__ = [
    "ACTION_SETS", "BUTTON_NAMES", "BUTTONS", "CATCH_ID", "CLOSE_HINTS", "PROTOCOL_VERSION", "ROM_ID", "EpisodeEnd",
    "LockstepClient", "LockstepConnectionClosed", "LockstepEnv", "LockstepError", "LockstepServer", "LockstepServerError",
    "LockstepSyncClient", "ScreenFrame", "State", "decode_screen_frame", "find_cli", "make_url", "mask_to_names",
    "names_to_mask", "register_envs", "resolve_action_set",
]
