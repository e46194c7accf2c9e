"""Safe text: which characters a claim's identifiers and free text may hold, and quoting a bad value
in an error message (a short prefix, every unprintable character escaped)."""
from __future__ import annotations

import re
import unicodedata

from .limits import QUOTE_CHARS

IDEOGRAPHIC_SPACE = "\u3000"


def unsafe_char(text: str, allow_ideographic_space: bool = False) -> int | None:
    """Index of the first character that must not appear, else None.

    Allowed: what `str.isprintable()` accepts (letters of every script, Japanese included, digits,
    marks, punctuation, symbols and the ASCII space), plus U+3000 in free text. Refused: control
    characters (newline, tab, ESC ...), format characters (bidi overrides and isolates, zero-width
    characters), line and paragraph separators, other spaces, private-use, unassigned and surrogate
    code points."""
    if text.isprintable():
        return None
    for i, ch in enumerate(text):
        if not ch.isprintable() and not (allow_ideographic_space and ch == IDEOGRAPHIC_SPACE):
            return i
    return None


_DASHES = re.compile("[\u2010-\u2015\u2212\u30fc\uff70\ufe63]")   # dash look-alikes, read as '-'


# the kanji 一 (and ⼀ ㆒, 一 after NFKC) beside an ASCII character is a dash to the eye: read as '-'
_ONE_BESIDE_ASCII = re.compile("(?<=[\x21-\x7e])\u4e00|\u4e00(?=[\x21-\x7e])")
# single-stroke kanji that read as ASCII strokes (丨 1/l/|, 丿 /, 亅 J, 丶 .): refused in identifiers
_STROKES = frozenset("\u4e28\u4e3f\u4e85\u4e36")


_DASHES_NOT_KANA = re.compile("[\u2010-\u2015\u2212\ufe63]")
# the long-vowel mark ー after anything but a kana is a dash to the eye (after a kana it is the long
# vowel: サーバー1 stays); the kanji 一 beside an ASCII character likewise
_BAR = re.compile("(?<![\u3041-\u3096\u30a1-\u30fa])\u30fc")


def claim_id_form(value: str) -> str:
    """A claim id as it is kept and compared: NFKC (full-width -> ASCII), dash look-alikes -> '-', ー not
    after a kana and 一 beside an ASCII character -> '-' (a katakana word keeps its long vowels)."""
    text = _DASHES_NOT_KANA.sub("-", unicodedata.normalize("NFKC", value))
    return _ONE_BESIDE_ASCII.sub("-", _BAR.sub("-", text))


def policy_number_form(value: str) -> str:
    """A policy number (or claim id) as aggregates and the duplicate check compare it, before spaces and
    case: NFKC (full-width -> ASCII), dash look-alikes -> '-' (一 too, beside an ASCII character). One
    character for one character after NFKC (positions hold)."""
    return _ONE_BESIDE_ASCII.sub("-", _DASHES.sub("-", unicodedata.normalize("NFKC", value)))


def policy_number_char(text: str, ascii_marks: str = " -_./()#") -> int | None:
    """Index of the first character a policy number must not hold (in policy_number_form), else None.

    Aggregates are kept per policy number, so two numbers that look the same must be the same: only
    ASCII letters and digits, space and - _ . / ( ) #, and Japanese kana and kanji. Refused: invisible
    letters (Hangul fillers U+3164/U+FFA0, Braille blank U+2800), combining marks, variation selectors
    and look-alike letters of other scripts (Cyrillic 'А' beside Latin 'A'). Choice (claims manager):
    Japanese insurers' policy numbers are alphanumeric; kana and kanji are kept for agents' own codes.
    `ascii_marks`: the ASCII punctuation allowed (claim ids take every printable ASCII character)."""
    m = _refused_in(ascii_marks).search(text)
    return m.start() if m else None


_REFUSED: dict[str, re.Pattern] = {}


def _refused_in(ascii_marks: str) -> re.Pattern:
    """policy_number_char's test as one pattern (a character-by-character loop cost ~7 µs a claim):
    the combining voicing marks and stroke kanji, or anything outside ASCII letters, digits and the
    marks, kana (U+3041-U+30FF), kanji (U+3400-U+4DBF, U+4E00-U+9FFF) and 々."""
    pattern = _REFUSED.get(ascii_marks)
    if pattern is None:
        pattern = _REFUSED[ascii_marks] = re.compile(
            "[\u3099-\u309c" + "".join(sorted(_STROKES)) + "]"
            "|[^A-Za-z0-9" + re.escape(ascii_marks) + "\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u3005]")
    return pattern


def describe_char(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def quote(value: object, limit: int = QUOTE_CHARS, bare: bool = False) -> str:
    """A short, printable rendering of a bad value for an error message: at most `limit` characters
    of it, unprintable characters as \\xNN / \\uNNNN, and how long it was when cut."""
    if isinstance(value, str):
        text, is_str = value, True
    elif isinstance(value, (bool, int, float)) or value is None:
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
            return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
        text, is_str = repr(value), False
    else:
        return f"a {type(value).__name__}"
    cut = text[:limit]
    out = []
    for ch in cut:
        if ch.isprintable() and (bare or ch not in "\\'"):
            out.append(ch)
        elif ch in "\\'":
            out.append("\\" + ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    shown = "".join(out)
    if is_str and not bare:
        shown = f"'{shown}'"
    if len(text) > limit:
        shown += f"… ({len(text):,} characters)"
    return shown


CLAIM_ID_ASCII = "".join(chr(c) for c in range(0x20, 0x7F) if not chr(c).isalnum())  # every ASCII mark, and space


# characters str.isprintable() lets through that show nothing: Hangul fillers, Braille blank, the
# combining grapheme joiner, Khmer inherent vowels, variation selectors (Default_Ignorable or blank)
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f") | \
    frozenset(chr(c) for c in range(0xFE00, 0xFE10)) | frozenset(chr(c) for c in range(0xE0100, 0xE01F0))
MAX_MARKS = 3  # combining marks on one letter (Japanese and accented Latin need at most two)


def invisible_char(text: str) -> int | None:
    """Index of the first character that shows nothing (or of a pile of combining marks), else None."""
    run = 0
    for i, ch in enumerate(text):
        if ch in _INVISIBLE:
            return i
        run = run + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
        if run > MAX_MARKS:
            return i
    return None
