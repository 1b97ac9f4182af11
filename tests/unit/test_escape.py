"""The one escaping rule (syscount.names.escape): control characters, invalid UTF-8,
delimiters, non-ASCII kept, and that escaped text maps back to exactly one original."""

from __future__ import annotations

import csv
import io
import json
import random
import re

import pytest

from syscount.names.escape import c_bytes, c_string, decode_name, escape_bytes, escape_text, unicode_safe

HOSTILE = "\x1b]0;pwned\x07\x1b[2J"  # set the terminal title, then clear the screen


def unescape(text: str) -> bytes:
    """The inverse of escape_bytes, written independently: proves the escaping is unambiguous."""
    out = bytearray()
    short = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "\\": 92, '"': 34}
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out += char.encode()
            i += 1
        elif text[i + 1] == "x":
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        elif text[i + 1] in short:
            out.append(short[text[i + 1]])
            i += 2
        else:
            out.append(int(text[i + 1 : i + 4], 8))
            i += 4
    return bytes(out)


def visible(text: str) -> bool:
    """No C0/C1 control, DEL, format character or lone surrogate left."""
    return text.isprintable() and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def test_plain_names_are_unchanged_and_not_copied() -> None:
    for name in ("bash", "kworker/0:1H", "systemd-journal", "a b", "/system.slice/ssh.service", ""):
        assert escape_text(name) is name


def test_terminal_escape_sequences_are_escaped_strace_style() -> None:
    assert escape_text(HOSTILE) == "\\033]0;pwned\\007\\033[2J"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\n", "\\n"),
        ("\t", "\\t"),
        ("\r", "\\r"),
        ("\v", "\\v"),
        ("\f", "\\f"),
        ("\0", "\\000"),
        ("\x01", "\\001"),
        ("\x07", "\\007"),
        ("\x08", "\\010"),
        ("\x1b", "\\033"),
        ("\x1f", "\\037"),
        ("\x7f", "\\x7f"),
        ("\x9b", "\\xc2\\x9b"),  # C1 CSI: some terminals obey it like ESC [
        ("\x85", "\\xc2\\x85"),  # NEL
        ("\u202e", "\\xe2\\x80\\xae"),  # right-to-left override
        ("\u200b", "\\xe2\\x80\\x8b"),  # zero-width space
        ("\u2028", "\\xe2\\x80\\xa8"),  # line separator: a newline to some parsers
        ("\u00a0", "\\xc2\\xa0"),  # no-break space looks like a space
        ("\\", "\\\\"),
    ],
)
def test_each_kind_of_invisible_character(raw: str, shown: str) -> None:
    assert escape_text(f"a{raw}b") == f"a{shown}b"


def test_printable_non_ascii_is_kept() -> None:
    for name in ("café", "日本語", "Ωmega", "naïve-srv", "😀"):
        assert escape_text(name) == name


def test_invalid_utf8_bytes_are_shown_in_hex() -> None:
    assert escape_bytes(b"ab\xffc") == "ab\\xffc"
    assert escape_bytes(b"\xc3") == "\\xc3"  # a cut multi-byte sequence
    assert escape_bytes(b"\xc3\xa9\xe9") == "é\\xe9"  # valid then invalid
    assert escape_bytes(b"\xed\xa0\x80") == "\\xed\\xa0\\x80"  # an encoded surrogate is invalid UTF-8


def test_decode_name_keeps_undecodable_bytes() -> None:
    raw = b"x\xff\xfe\x1b"
    assert decode_name(raw).encode("utf-8", "surrogateescape") == raw


def test_a_backslash_in_a_name_cannot_forge_an_escape() -> None:
    # A process naming itself with the text "\033" must not look like one holding ESC.
    assert escape_text("\\033") != escape_text("\x1b")
    assert escape_text("\\033") == "\\\\033"


def test_escaped_text_is_visible_and_maps_back_to_the_original_bytes() -> None:
    rng = random.Random(10)
    alphabet = [*range(0, 0x20), 0x20, 0x41, 0x5C, 0x22, 0x7F, 0x80, 0x9B, 0xC3, 0xA9, 0xE2, 0x80, 0xAE, 0xFF]
    for _ in range(3000):
        raw = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        shown = escape_bytes(raw)
        assert visible(shown), (raw, shown)
        assert unescape(shown) == raw, (raw, shown)


def test_c_string_quotes_and_escapes_the_quote() -> None:
    assert c_string(b"/etc/passwd") == '"/etc/passwd"'
    assert c_string(b'a"b\\c\nd\x01\xff') == '"a\\"b\\\\c\\nd\\001\\xff"'
    assert c_string("/tmp/café".encode()) == '"/tmp/café"'
    assert unescape(c_string(b'q"\x1b')[1:-1]) == b'q"\x1b'


def test_csv_cells_escaped_then_quoted_by_the_csv_module_read_back_as_one_cell() -> None:
    name = 'evil,"name"\r\nforged,row'
    out = io.StringIO()
    csv.writer(out).writerow(["1", escape_text(name), "read", "5"])
    text = out.getvalue()
    assert text.count("\n") == 1 and "\r" not in text.removesuffix("\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["1", 'evil,"name"\\r\\nforged,row', "read", "5"]]


def test_unicode_safe_makes_json_and_prometheus_input_valid_utf8_and_nothing_more() -> None:
    assert unicode_safe("plain") == "plain"
    assert unicode_safe("café") == "café"
    assert unicode_safe(decode_name(b"a\xffb")) == "a\\xffb"
    # Control characters are left to the format's own escaping: JSON escapes them once.
    name = decode_name(b"\x1b[2J\xff")
    dumped = json.dumps(unicode_safe(name))
    assert dumped == '"\\u001b[2J\\\\xff"'
    assert json.loads(dumped) == "\x1b[2J\\xff"
    assert not re.search(r"[\x00-\x1f]", dumped)
    unicode_safe(name).encode("utf-8")  # would raise on a lone surrogate


def c_unescape(literal: str) -> bytes:
    """A C compiler's reading of a string literal (octal escapes of 1-3 digits, greedy)."""
    assert literal[0] == literal[-1] == '"'
    text, out, i = literal[1:-1], bytearray(), 0
    short = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "\\": 92, '"': 34}
    while i < len(text):
        if text[i] != "\\":
            assert text[i] != '"'
            out += text[i].encode("ascii")
            i += 1
        elif text[i + 1] in short:
            out.append(short[text[i + 1]])
            i += 2
        else:
            digits = re.match(r"[0-7]{1,3}", text[i + 1 :])
            assert digits, text[i:]
            out.append(int(digits[0], 8))
            i += 1 + len(digits[0])
    return bytes(out)


def test_c_bytes_writes_data_as_strace_does() -> None:
    # Octal as short as the next byte allows; printable ASCII only (data is not text).
    assert c_bytes(b"\x7fELF\x02\x01\x01\x03\x00\x00") == '"\\177ELF\\2\\1\\1\\3\\0\\0"'
    assert c_bytes(b"\x00" + b"1") == '"\\0001"'  # an octal digit follows: three digits
    assert c_bytes(b"\x00" + b"8") == '"\\08"'
    assert c_bytes(b'tab\tnl\n"q"\\') == '"tab\\tnl\\n\\"q\\"\\\\"'
    assert c_bytes("café".encode()) == '"caf\\303\\251"'
    assert c_bytes(b"\x1b]0;pwned\x07") == '"\\33]0;pwned\\7"'
    assert c_bytes(b"plain text") == '"plain text"'


def test_c_bytes_is_visible_ascii_and_reads_back_as_the_same_bytes() -> None:
    rng = random.Random(11)
    alphabet = [*range(0, 0x20), 0x20, 0x30, 0x37, 0x38, 0x41, 0x5C, 0x22, 0x7F, 0x80, 0xC3, 0xFF]
    for _ in range(3000):
        raw = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        shown = c_bytes(raw)
        assert shown.isascii() and shown.isprintable(), (raw, shown)
        assert c_unescape(shown) == raw, (raw, shown)
