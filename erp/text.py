"""What text Heyi stores: Unicode NFC, without invisible or direction-changing characters.

A customer named with U+202E (RIGHT-TO-LEFT OVERRIDE) reads back reversed; a code with a
zero-width space looks like another code and is not; NFC and NFD spellings of one name
look identical and compare unequal. So every text that comes in is normalised to NFC,
and these are refused:

- everywhere: control characters other than tab, line feed and carriage return, every
  format character (Unicode category Cf: the bidirectional embeddings, overrides and
  isolates U+202A-U+202E and U+2066-U+2069, the marks U+200E/U+200F/U+061C, zero-width
  space, joiners and no-break space U+200B-U+200D/U+2060/U+FEFF, soft hyphen ...), and the
  line and paragraph separators U+2028/U+2029;
- in codes and names (one line): tab, line feed and carriage return too.

Pure functions (no Flask): the HTTP edge applies them to every JSON body and query string,
the schema fields to codes and names, and imports to spreadsheet cells.
"""

from __future__ import annotations

import unicodedata

from erp.messages import Message, Named

ALLOWED_CONTROLS = frozenset("\t\n\r")


def _describe(character: str) -> Named:
    """The character by its code point, which reads the same in every language; an English
    reader also gets its Unicode name (Unicode names characters in English only)."""
    return Named(f"U+{ord(character):04X}", "", unicodedata.name(character, ""))


def refused_character(text: str, *, single_line: bool = False) -> Message | None:
    """Why ``text`` may not be stored (naming the first refused character), or None."""
    if text.isprintable():
        # Every character refused below is unprintable (categories Cc, Cf, Zl, Zp are), so
        # printable text passes: the usual case, without a lookup per character.
        return None
    for character in text:
        category = unicodedata.category(character)
        if category == "Cc" and (single_line or character not in ALLOWED_CONTROLS):
            return Message("contains the control character {character}", character=_describe(character))
        if category == "Cf":
            return Message("contains the invisible formatting character {character}", character=_describe(character))
        if category in ("Zl", "Zp"):
            return Message("contains the separator {character}", character=_describe(character))
    return None


def normalise(text: str) -> str:
    """``text`` in Unicode normalisation form C (composed), as it is stored and compared."""
    return unicodedata.normalize("NFC", text)
