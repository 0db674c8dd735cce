"""Encoding and character repair. (Minimal version; replaced by the recorded, fast repair.)"""

from __future__ import annotations

import ftfy

from cleaner.model import Repair

FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=True,
    uncurl_quotes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    explain=True,
)


def repair_text(text: str) -> tuple[str, list[Repair]]:
    fixed = ftfy.fix_text(text, config=FTFY_CONFIG)
    if fixed == text:
        return text, []
    return fixed, [Repair(0, len(text), text, fixed, ("ftfy",))]
