"""The one escaping rule for text that someone else controls, in every human-readable output.

Thread names (comm), cgroup directory names, file paths and argv are chosen by whoever
runs the traced program. Printed raw, a name holding ``ESC ] 0 ; ... BEL`` retitles the
operator's (root) terminal and ``ESC [ 2 J`` clears it; a newline forges a line in a log
that other tools parse. So every sink that writes for people (table, histogram,
summary, text log, CSV cells, trace text) passes such text through ``escape_text``,
the way strace, ps and top do:

- printable characters are kept as they are, non-ASCII letters included (``café``,
  ``日本``): "printable" is what ``str.isprintable`` says;
- a backslash becomes ``\\\\``, so an escaped name can never be mistaken for another;
- C0 control characters are written as strace writes them: ``\\n``, ``\\t``, ``\\r``,
  ``\\v``, ``\\f``, and the others as three octal digits (``\\033`` for ESC, ``\\007``
  for BEL, ``\\000``);
- everything else that is not printable (DEL, the C1 controls U+0080-U+009F that some
  terminals obey, invisible format characters such as bidirectional overrides and
  zero-width spaces, line and paragraph separators, other spaces than the ASCII one)
  is written as its UTF-8 bytes in hex: ``\\x7f``, ``\\xc2\\x9b``, ``\\xe2\\x80\\xae``;
- bytes that are not valid UTF-8 are written in hex too (``\\xff``). Text read from the
  kernel or /proc is decoded with ``decode_name`` (UTF-8, ``surrogateescape``), so such
  bytes survive to this point instead of becoming U+FFFD.

The escaped text is printable, holds no control character, and maps back to exactly
one original byte string.

Data that is not a name (a buffer read or written) is bytes, not text: ``c_bytes``
writes it as strace does, printable ASCII kept and every other byte in octal, so a
trace reads byte for byte like strace's (the same guarantees: printable, unambiguous).

Formats with their own escaping keep it: JSON strings stay JSON-escaped and CSV cells
are quoted by the csv module (after this function, which only removes what a reader
of the file must not see raw). JSON and Prometheus need valid UTF-8, which
``unicode_safe`` gives them without escaping anything else.
"""

from __future__ import annotations

# The short escapes strace uses; other C0 controls get three octal digits.
_C0_SHORT = {0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f", 0x0D: "\\r"}
# surrogateescape maps an undecodable byte b (0x80-0xff) to the code point U+DC00 + b.
_SURROGATE_LOW, _SURROGATE_HIGH = 0xDC80, 0xDCFF


def decode_name(data: bytes) -> str:
    """Bytes from the kernel or /proc as text, undecodable bytes kept (surrogateescape)."""
    return data.decode("utf-8", "surrogateescape")


def escape_text(text: str, *, quote: str = "") -> str:
    """``text`` with every character a reader must not see raw escaped (module docstring).

    ``quote``: a character to escape with a backslash as well (``"`` inside a C-style
    string literal)."""
    if text.isprintable() and "\\" not in text and (not quote or quote not in text):
        return text  # the common case: nothing to do, no copy
    return "".join(_escape_char(char, quote) for char in text)


def escape_bytes(data: bytes) -> str:
    """Raw bytes (a name as the kernel keeps it) escaped for people."""
    return escape_text(decode_name(data))


def c_string(data: bytes) -> str:
    """``data`` as a double-quoted C-style literal, as strace prints paths and argv."""
    return '"' + escape_text(decode_name(data), quote='"') + '"'


def c_bytes(data: bytes) -> str:
    """Data (a buffer read or written, not a name) as strace prints it: a C literal where
    only printable ASCII stays as it is; ``\\t \\n \\v \\f \\r``, and every other byte
    in octal, as short as the next byte allows (``\\0`` but ``\\0001`` for NUL then "1").

    Data is bytes, not text: UTF-8 is not assumed, so nothing else is printed raw."""
    if all(0x20 <= byte < 0x7F and byte not in (0x22, 0x5C) for byte in data):
        return '"' + data.decode("ascii") + '"'
    out = ['"']
    last = len(data) - 1
    for i, byte in enumerate(data):
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        elif byte in _C0_SHORT:
            out.append(_C0_SHORT[byte])
        elif i < last and 0x30 <= data[i + 1] <= 0x37:  # an octal digit follows: three digits
            out.append(f"\\{byte:03o}")
        else:
            out.append(f"\\{byte:o}")
    out.append('"')
    return "".join(out)


def unicode_safe(text: str) -> str:
    """``text`` encodable as UTF-8: each undecodable byte kept from ``decode_name`` as ``\\xNN``.

    For formats that escape for themselves but need valid Unicode: JSON (whose strings
    then stay plainly JSON-escaped) and Prometheus label values."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _escape_char(char: str, quote: str) -> str:
    code = ord(char)
    if char in ("\\", quote):
        return "\\" + char
    if code < 0x20:
        return _C0_SHORT.get(code) or f"\\{code:03o}"
    if _SURROGATE_LOW <= code <= _SURROGATE_HIGH:
        return f"\\x{code - 0xDC00:02x}"
    if char.isprintable():
        return char
    return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
