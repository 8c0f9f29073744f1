"""The X12 basic and extended character sets, and safe transcoding of text.

X12 is not UTF-8: an element may only hold characters of the basic set (upper-case letters,
digits, space and some punctuation) or, when the partner allows it, the extended set
(adds lower case and more punctuation). A character outside the set is reported, never
silently replaced.
"""

import re
import unicodedata

BASIC_SPECIALS = " !\"&'()*+,-./:;?="
EXTENDED_SPECIALS = "%@[]_{}\\|<>~^`#$"

BASIC = "basic"
EXTENDED = "extended"

_BASIC_CHARS = "A-Z0-9" + re.escape(BASIC_SPECIALS)
_EXTENDED_CHARS = _BASIC_CHARS + "a-z" + re.escape(EXTENDED_SPECIALS)

# first character that is NOT allowed, per character set
INVALID_CHARACTER = {
    BASIC: re.compile(f"[^{_BASIC_CHARS}]"),
    EXTENDED: re.compile(f"[^{_EXTENDED_CHARS}]"),
}


def describe_character(char):
    """Plain words for one character, e.g. "'é' (U+00E9)" or "byte 0xE9 (not valid text)"."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        # surrogateescape: a byte that was not valid UTF-8
        return f"byte 0x{code - 0xDC00:02X} (not valid text)"
    if code < 32 or code == 127:
        return f"control character U+{code:04X}"
    return f"'{char}' (U+{code:04X})"


def first_invalid_character(value, charset=EXTENDED):
    """The first character of ``value`` outside ``charset``, or None."""
    match = INVALID_CHARACTER[charset].search(value)
    return match.group() if match else None


def transliterate(value):
    """Fold accented letters to their base letter (é -> e, Ø stays): used only when a
    partner agreed to it; whatever is still outside the set is then reported."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(char for char in decomposed if not unicodedata.combining(char))
