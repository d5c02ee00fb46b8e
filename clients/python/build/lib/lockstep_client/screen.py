"""Binary screen frames from the bridge: "LSSC" header (version, format, width, height, frame id; little-endian) + pixels."""
import struct

SCREEN_MAGIC = b"LSSC"
SCREEN_VERSION = 1
HEADER = struct.Struct("<4sBBHHI")
FORMATS = {0: "rgba", 1: "gray"}
CHANNELS = {"rgba": 4, "gray": 1}


class ScreenFrame(object):
    __slots__ = ("frame", "width", "height", "format", "pixels")

    def __init__(self, frame, width, height, format, pixels):
        self.frame = frame
        self.width = width
        self.height = height
        self.format = format
        self.pixels = pixels

    @property
    def shape(self):
        """(height, width, 4) for rgba, (height, width) for gray: the shape of the observation array."""
        return (self.height, self.width, 4) if self.format == "rgba" else (self.height, self.width)


def decode_screen_frame(data):
    """Parses one binary screen message; raises ValueError naming what is wrong."""
    data = bytes(data)
    if len(data) < HEADER.size:
        raise ValueError("screen frame truncated: %d bytes, the header alone is %d" % (len(data), HEADER.size))
    magic, version, code, width, height, frame = HEADER.unpack_from(data)
    if magic != SCREEN_MAGIC:
        raise ValueError("not a screen frame: magic %r (expected %r)" % (magic, SCREEN_MAGIC))
    if version != SCREEN_VERSION:
        raise ValueError("screen frame version %d not supported (expected %d)" % (version, SCREEN_VERSION))
    if code not in FORMATS:
        raise ValueError("screen frame format code %d not supported (0 rgba, 1 gray)" % code)
    fmt = FORMATS[code]
    need = width * height * CHANNELS[fmt]
    pixels = data[HEADER.size:]
    if len(pixels) != need:
        raise ValueError("screen frame %dx%d %s needs %d pixel bytes, got %d" % (width, height, fmt, need, len(pixels)))
    return ScreenFrame(frame, width, height, fmt, pixels)


def screen_size(request):
    """(width, height, format) of the frames a screen request produces."""
    f = request["downsample"]
    return 256 // f, 240 // f, request["format"]
