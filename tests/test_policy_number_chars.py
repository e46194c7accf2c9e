"""Aggregates are kept per policy number: a number that looks like another must be that number or be
refused (hostile probe: U+3164 / U+2800 / U+FE0F / Cyrillic variants each opened a fresh ② pool)."""
import pytest
from pydantic import ValidationError

from adjudicator.contract.claim import Policy
from adjudicator.contract.text import CLAIM_ID_ASCII, policy_number_char


@pytest.mark.parametrize("number", ["FK-123456", "ＦＫ－１２３", "fk conc", "FK‐CONC", "FK−1", "福岡-001", "ふくおか(1)#2", "A_B.C/D"])
def test_readable_policy_numbers_are_kept(number):
    assert Policy(policy_number=number).policy_number == number


@pytest.mark.parametrize("number,char", [("AGG-1\u3164", "U+1160"), ("AGG-1\uffa0", "U+1160"), ("AGG-1\u2800", "U+2800"),
                                         ("AGG-1\ufe0f", "U+FE0F"), ("\u0410GG-1", "U+0410"), ("AGG-1\u0301", "U+0301"),
                                         ("AGG-1\u3099", "U+3099"), ("AGG\u00b71", "U+00B7")])
def test_invisible_and_look_alike_characters_are_refused_naming_the_character(number, char):
    with pytest.raises(ValidationError) as err:
        Policy(policy_number=number)
    [e] = err.value.errors()
    assert e["loc"] == ("policy_number",) and char in e["msg"] and "look-alike" in e["msg"]


def test_policy_number_char_positions():
    assert policy_number_char("AB-1") is None
    assert policy_number_char("AB\u2800C") == 2
    assert policy_number_char("\u3005\u30a1\u3041\u4e00\u9fff\u3400") is None
    assert policy_number_char("\u3040") == 0 and policy_number_char("\ua000") == 0


def _allowed_by_the_rule(ch: str, ascii_marks: str) -> bool:
    """The rule policy_number_char states, character by character (its pattern must say the same)."""
    o = ord(ch)
    if 0x3099 <= o <= 0x309C or ch in "\u4e28\u4e3f\u4e85\u4e36":   # voicing marks, stroke kanji
        return False
    return ((ch.isascii() and (ch.isalnum() or ch in ascii_marks)) or 0x3041 <= o <= 0x30FF
            or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or ch == "\u3005")


@pytest.mark.parametrize("marks", [" -_./()#", CLAIM_ID_ASCII])
def test_the_pattern_refuses_exactly_what_the_rule_refuses_on_every_code_point(marks):
    wrong = []
    for o in range(0x110000):
        ch = chr(o)
        want = None if _allowed_by_the_rule(ch, marks) else 1
        if policy_number_char("A" + ch + "B", marks) != want:
            wrong.append(hex(o))
    assert wrong == []
