"""The catalog speaks the Union's language: members are "đồng chí", a link is "đường dẫn".

Youth who are not members yet (a friend signing up through a member's invitation) are
addressed as "bạn"; everybody else never is. "bạn trẻ" (young people) is a noun, not an address.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot import texts
from storage.validation import Org

CATALOG = Path(texts.__file__)
# Spoken to a youth who is not a member yet: "bạn" is right there.
TO_A_YOUTH = re.compile(r"^(FRIEND_|friend_)|^(CONFIRM_ERASE_YOUTH|ERASED_YOUTH)$")
ADDRESS = re.compile(r"\bbạn\b(?! trẻ)", re.IGNORECASE)
ENGLISH_LINK = re.compile(r"\blink\b", re.IGNORECASE)


def _sentences() -> list[tuple[str, str]]:
    """(definition name, string) for every string literal of the catalog's definitions."""
    found = []
    for node in ast.parse(CATALOG.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            name = next((t.id for t in targets if isinstance(t, ast.Name)), "")
        elif isinstance(node, ast.FunctionDef):
            name = node.name
        else:
            continue
        for part in ast.walk(node):
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                found.append((name, part.value))
    return found


def test_the_catalog_was_read():
    names = {name for name, _ in _sentences()}
    assert {"WELCOME", "ASK_BIRTH", "FRIEND_ASK_NAME", "appoint_panel"} <= names


def test_members_are_addressed_as_dong_chi_never_ban():
    wrong = [
        (name, text)
        for name, text in _sentences()
        if not TO_A_YOUTH.search(name) and ADDRESS.search(text)
    ]
    assert wrong == []


def test_one_word_for_a_link():
    assert [(n, t) for n, t in _sentences() if ENGLISH_LINK.search(t)] == []


def test_a_hoi_unit_has_a_chi_hoi_truong_not_a_bi_thu():
    assert "Chi hội trưởng hiện nay: chưa có" in texts.appoint_panel("Chi hội X", [], org=Org.HOI)
    assert "Bí thư hiện nay: chưa có" in texts.appoint_panel("Chi đoàn Y", [], org=Org.DOAN)
