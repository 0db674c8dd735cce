"""cleaner: a boilerplate-stripping article normaliser that explains every line it removes."""

from __future__ import annotations

from cleaner.config import DEFAULT_CONFIG, CleanerConfig
from cleaner.core import Cleaner, clean, clean_and_explain
from cleaner.model import (
    Block,
    Category,
    Note,
    Removal,
    Repair,
    Result,
    apply_removals,
    apply_repairs,
)

__all__ = [
    "DEFAULT_CONFIG",
    "Block",
    "Category",
    "Cleaner",
    "CleanerConfig",
    "Note",
    "Removal",
    "Repair",
    "Result",
    "apply_removals",
    "apply_repairs",
    "clean",
    "clean_and_explain",
]
