"""NES controller buttons as 8-bit masks (same bits as the bridge's src/core/buttons.ts) and the named action sets."""

BUTTONS = {
    "A": 0x01,
    "B": 0x02,
    "SELECT": 0x04,
    "START": 0x08,
    "UP": 0x10,
    "DOWN": 0x20,
    "LEFT": 0x40,
    "RIGHT": 0x80,
}
BUTTON_NAMES = ("A", "B", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT")
_ALIASES = {"L": "LEFT", "R": "RIGHT", "U": "UP", "D": "DOWN", "SEL": "SELECT", "T": "START", "S": "SELECT"}

# Named action sets: index i of the Discrete action space presses ACTION_SETS[name][i].
# START and SELECT are left out of the small sets so a random policy does not keep pausing the game.
_MINIMAL = [[], ["RIGHT"], ["LEFT"], ["UP"], ["DOWN"], ["A"], ["B"]]
ACTION_SETS = {
    "minimal": _MINIMAL,
    "simple": _MINIMAL + [
        ["RIGHT", "A"], ["RIGHT", "B"], ["LEFT", "A"], ["LEFT", "B"], ["RIGHT", "A", "B"], ["LEFT", "A", "B"],
    ],
}
FULL_ACTION_SET = "full"


def names_to_mask(names):
    """Button names (case-insensitive; aliases L/R/U/D/SEL; "NOOP" or "" for none) to a mask."""
    if isinstance(names, str):
        names = [n for n in names.replace("+", " ").split() if n]
    mask = 0
    for raw in names:
        n = str(raw).strip().upper()
        if n in ("", "NOOP"):
            continue
        key = _ALIASES.get(n, n)
        if key not in BUTTONS:
            raise ValueError("unknown button %r (expected one of %s)" % (raw, ", ".join(BUTTON_NAMES)))
        mask |= BUTTONS[key]
    return mask


def mask_to_names(mask):
    return [n for n in BUTTON_NAMES if mask & BUTTONS[n]]


def _combo_mask(item, where):
    if isinstance(item, bool):
        raise ValueError("%s: expected a mask 0..255 or button names, got %r" % (where, item))
    if isinstance(item, int):
        if not 0 <= item <= 0xFF:
            raise ValueError("%s: button mask must be 0..255, got %r" % (where, item))
        return item
    if isinstance(item, (str, list, tuple)):
        try:
            return names_to_mask(item)
        except ValueError as e:
            raise ValueError("%s: %s" % (where, e)) from None
    raise ValueError("%s: expected a mask 0..255 or button names, got %r" % (where, item))


def resolve_action_set(spec):
    """The masks of an action set: a name ("minimal", "simple", "full"), or a list of masks / button-name lists."""
    if spec is None:
        spec = "simple"
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key == FULL_ACTION_SET:
            return list(range(256))
        if key not in ACTION_SETS:
            raise ValueError("unknown action_set %r (expected one of %s, or a list of button combinations)"
                             % (spec, ", ".join(list(ACTION_SETS) + [FULL_ACTION_SET])))
        return [names_to_mask(c) for c in ACTION_SETS[key]]
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError("action_set must not be empty")
        return [_combo_mask(item, "action_set[%d]" % i) for i, item in enumerate(spec)]
    raise ValueError("action_set must be a name or a list of button combinations, got %r" % (spec,))
