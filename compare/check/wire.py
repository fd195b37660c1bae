"""The messages between the checker and the process that runs the user's code.

A message is plain data and arrays, never a pickle: what the user's process sends
back cannot run code in the checker when it is read.

    frame   = MAGIC (4 bytes) + length (8 bytes, little-endian) + payload
    payload = header length (4 bytes) + header (JSON, UTF-8) + the arrays' bytes

In the header's `body`, JSON stands for itself except these one-key objects:
    {"$a": i}            array i of the header's `arrays` (dtype, shape, offset, nbytes)
    {"$h": id}           a handle: an object kept in the user's process
    {"$t": [...]}        a tuple
    {"$d": [[k, v]...]}  a dict (its keys are strings)
    {"$f": "nan"}        a float JSON cannot write: "nan", "inf" or "-inf"
Array dtypes are limited to numbers and booleans (`ARRAY_KINDS`).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

import numpy as np

MAGIC = b"NNC1"
ARRAY_KINDS = "fiub"            # float, signed and unsigned integer, bool: nothing else travels
MAX_MESSAGE = 1 << 34           # 16 GiB: a larger length is a damaged frame, not a message
_FRAME = struct.Struct("<4sQ")
_HEADER = struct.Struct("<I")


class WireError(Exception):
    """A frame that is not one of ours (stray bytes on the channel, a damaged message)."""


@dataclass(frozen=True)
class Handle:
    """An object that lives in the user's process; pass it back to use it there."""

    id: int


def encode(body) -> bytes:
    """One frame holding `body` (plain data, arrays and handles)."""
    arrays: list[np.ndarray] = []
    header = {"body": _to_json(body, arrays), "arrays": []}
    offset = 0
    for array in arrays:
        header["arrays"].append({"dtype": array.dtype.str, "shape": list(array.shape),
                                 "offset": offset, "nbytes": array.nbytes})
        offset += array.nbytes
    text = json.dumps(header, allow_nan=False).encode()
    payload = b"".join([_HEADER.pack(len(text)), text,
                        *(np.ascontiguousarray(a).tobytes() for a in arrays)])
    return _FRAME.pack(MAGIC, len(payload)) + payload


def frame_length(prefix: bytes) -> int:
    """The payload length announced by a frame's first 12 bytes."""
    magic, length = _FRAME.unpack(prefix)
    if magic != MAGIC or length > MAX_MESSAGE:
        raise WireError("not a message of the checker's")
    return length


PREFIX = _FRAME.size


def decode(payload: bytes):
    """The body of one frame's payload; arrays are fresh, writable copies."""
    try:
        (size,) = _HEADER.unpack_from(payload)
        header = json.loads(payload[_HEADER.size:_HEADER.size + size])
        data = memoryview(payload)[_HEADER.size + size:]
        arrays = [_array(entry, data) for entry in header["arrays"]]
        return _from_json(header["body"], arrays)
    except WireError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, struct.error, RecursionError) as error:
        raise WireError(f"damaged message ({type(error).__name__})") from None


def _array(entry: dict, data: memoryview) -> np.ndarray:
    dtype = np.dtype(entry["dtype"])
    if dtype.kind not in ARRAY_KINDS or dtype.hasobject:
        raise WireError(f"an array of dtype {dtype} is not accepted")
    shape = tuple(int(n) for n in entry["shape"])
    start, nbytes = int(entry["offset"]), int(entry["nbytes"])
    if start < 0 or start + nbytes > len(data) or nbytes != dtype.itemsize * math.prod(shape):
        raise WireError("an array's bytes do not match its shape")
    return np.frombuffer(data[start:start + nbytes], dtype=dtype).reshape(shape).copy()


def _to_json(value, arrays: list):
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"$a": len(arrays) - 1}
    if isinstance(value, Handle):
        return {"$h": value.id}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"$f": repr(value)}
    if isinstance(value, tuple):
        return {"$t": [_to_json(item, arrays) for item in value]}
    if isinstance(value, list):
        return [_to_json(item, arrays) for item in value]
    if isinstance(value, dict):
        return {"$d": [[str(key), _to_json(item, arrays)] for key, item in value.items()]}
    raise TypeError(f"cannot send a {type(value).__name__}")


def _from_json(value, arrays: list):
    if isinstance(value, list):
        return [_from_json(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise WireError("an unknown object in a message")
    (key, item), = value.items()
    if key == "$a":
        return arrays[item]
    if key == "$h":
        return Handle(int(item))
    if key == "$t":
        return tuple(_from_json(x, arrays) for x in item)
    if key == "$d":
        return {str(k): _from_json(v, arrays) for k, v in item}
    if key == "$f" and item in ("nan", "inf", "-inf"):
        return float(item)
    raise WireError("an unknown object in a message")
