"""Reading a JSON request body: the one place the API turns client bytes into data.

Limits, checked before the parser runs: at most `MAX_BYTES` of body and `MAX_DEPTH`
nested arrays or objects (Python's parser recurses, so 100,000 `[` would overflow its
stack). The values are strict JSON: `NaN`, `Infinity` and `-Infinity`, which Python's
parser accepts by default, are refused, and so are numbers too long to convert (Python
refuses ints of more than 4,300 digits with a ValueError of its own).

Every refusal is a `BodyError` whose message tells the client what to send.
"""

from __future__ import annotations

import json
import re

from ..contracts import RadioError

MAX_BYTES = 64 * 1024       # the largest body the API takes: a whole mix is under 4 kB
MAX_DEPTH = 32              # the deepest mix (groove → drums → field) is 3 levels
MAX_NUMBER_DIGITS = 40      # no setting needs more; Python refuses ints of 4,300+ digits

# strings (with their escapes) and brackets: enough to measure nesting without parsing
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class BodyError(RadioError, ValueError):
    """A body the API cannot take; `status` is the HTTP code (400, 413 or 415)."""
    status = 400


def depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text (brackets inside strings
    do not count); the text need not be valid."""
    deepest = level = 0
    for m in _TOKENS.finditer(data):
        c = m.group()
        if c in (b"[", b"{"):
            level += 1
            deepest = max(deepest, level)
        elif c in (b"]", b"}"):
            level -= 1
    return deepest


def _refuse_constant(name: str):
    raise BodyError(f"{name} is not JSON: send a finite number")


def _number(text: str, kind):
    if len(text) > MAX_NUMBER_DIGITS:
        raise BodyError(f"number {text[:12]}… is {len(text)} characters long; "
                        f"the limit is {MAX_NUMBER_DIGITS}")
    value = kind(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise BodyError(f"number {text[:12]}… is out of range: send a finite number")
    return value


def parse(data: bytes, example: str = '{"key": "value"}', max_bytes: int = MAX_BYTES,
          max_depth: int = MAX_DEPTH):
    """The value of a JSON body, within the limits; BodyError otherwise. `example` goes
    into the message of a body that is not JSON at all."""
    if len(data) > max_bytes:
        raise BodyError(f"the body is {len(data)} bytes; the limit is {max_bytes}", 413)
    if depth(data) > max_depth:
        raise BodyError(f"the body nests more than {max_depth} levels deep")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("the body must be UTF-8 JSON") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant,
                          parse_int=lambda s: _number(s, int), parse_float=lambda s: _number(s, float))
    except BodyError:
        raise
    except (ValueError, RecursionError) as e:
        raise BodyError(f"the body must be JSON, e.g. {example} ({e})") from None


async def read(request, example: str = '{"key": "value"}', require_type: bool = False,
               max_bytes: int = MAX_BYTES):
    """The JSON value of an aiohttp request's body. `require_type`: only
    `application/json` is taken (a browser sends other types cross-site without asking)."""
    if require_type and request.content_type != "application/json":
        raise BodyError(f"send the body as application/json, not {request.content_type or 'no type'}", 415)
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyError(f"the body is {request.content_length} bytes; the limit is {max_bytes}", 413)
    data = bytearray()
    while chunk := await request.content.read(65536):
        data += chunk
        if len(data) > max_bytes:
            raise BodyError(f"the body is over the {max_bytes}-byte limit", 413)
    return parse(bytes(data), example, max_bytes)
