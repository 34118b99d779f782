"""docs/conformance.md explains every behaviour number (C1-C63) that tests and code cite."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "conformance.md"


def _cited(text: str) -> set[int]:
    """Codes cited in ``text``: ``C12``, ranges ``C20-C24``, test names ``test_c35_c36_...``."""
    codes = {int(code) for code in re.findall(r"\bC(\d{1,2})\b", text)}
    for first, last in re.findall(r"\bC(\d{1,2})-C?(\d{1,2})\b", text):
        codes.update(range(int(first), int(last) + 1))
    for name in re.findall(r"def (test_\w+)", text):
        codes.update(int(code) for code in re.findall(r"_c(\d+)(?=_)", f"_{name}_"))
    return codes


def _listed() -> dict[int, str]:
    rows = re.findall(r"^\| C(\d+) \| (.+) \|$", PAGE.read_text(encoding="utf-8"), re.M)
    return {int(code): row for code, row in rows}


def test_every_code_from_1_to_63_is_listed_once() -> None:
    rows = re.findall(r"^\| C(\d+) \|", PAGE.read_text(encoding="utf-8"), re.M)
    assert sorted(int(code) for code in rows) == list(range(1, 64))


def test_every_cited_code_is_explained() -> None:
    listed = _listed()
    sources = [*ROOT.glob("tests/*.py"), *ROOT.glob("earthscope_sdk_async/**/*.py")]
    for path in sources:
        for code in _cited(path.read_text(encoding="utf-8")):
            assert code in listed, f"{path.name} cites C{code}, missing from {PAGE.name}"


def test_the_tests_named_for_each_code_exist_and_cite_it() -> None:
    for code, row in _listed().items():
        for name in re.findall(r"`(test_\w+\.py)`", row):
            cited = _cited((ROOT / "tests" / name).read_text(encoding="utf-8"))
            assert code in cited, f"{name} is listed for C{code} but does not cite it"
