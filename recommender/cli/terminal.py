"""Text fit for a terminal: control characters in names never reach it raw.

A person's name (or any other field) may hold ESC, OSC or other control
sequences that a terminal would act on (colours, titles, hyperlinks, cursor
moves, clearing the screen). :func:`terminal_safe` is the one rule: every
control character except newline and tab is shown as a visible escape
(``\\x1b``, ``\\u202e``), so it is readable and inert. The CLI passes all of
its text output through it (:class:`SafeStream`); JSON output keeps the data
intact, with the same characters escaped as JSON ``\\uXXXX``.

>>> terminal_safe("Ada \\x1b]0;pwned\\x07 Lovelace\\x1b[2J")
'Ada \\\\x1b]0;pwned\\\\x07 Lovelace\\\\x1b[2J'
>>> terminal_safe("naïve café 王伟\\n")
'naïve café 王伟\\n'
"""

from __future__ import annotations

import re

#: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides/isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every control character (except newline and tab) shown as a visible escape."""
    return _UNSAFE.sub(_escape, text)


def json_safe(text: str) -> str:
    """JSON text with the same characters as ``\\uXXXX`` escapes: the decoded data is unchanged.

    >>> import json
    >>> s = json_safe(json.dumps({"name": "a\\x9bb\\u202e"}, ensure_ascii=False))
    >>> "\\x9b" in s, json.loads(s)["name"] == "a\\x9bb\\u202e"
    (False, True)
    """
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class SafeStream:
    """A text stream that writes through :func:`terminal_safe` (everything else is delegated)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_safe(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)
