"""Python trainer client for Lockstep: LockstepClient (asyncio, low level) and LockstepEnv (Gymnasium-compatible)."""
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
from .screen import ScreenFrame, decode_screen_frame

__version__ = "0.1.0"

# A library leaves log output to the application (logging.basicConfig() shows reconnects and bridge errors).
logging.getLogger("lockstep_client").addHandler(logging.NullHandler())

__all__ = [
    "ACTION_SETS", "BUTTON_NAMES", "BUTTONS", "CLOSE_HINTS", "PROTOCOL_VERSION", "EpisodeEnd", "LockstepClient",
    "LockstepConnectionClosed", "LockstepEnv", "LockstepError", "ScreenFrame", "State", "decode_screen_frame",
    "make_url", "mask_to_names", "names_to_mask", "resolve_action_set",
]
