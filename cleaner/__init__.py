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
from cleaner.records import (
    Document,
    RecordFields,
    clean_record,
    clean_records,
    read_jsonl,
    write_jsonl,
)

__all__ = [
    "DEFAULT_CONFIG",
    "Block",
    "Category",
    "Cleaner",
    "CleanerConfig",
    "Document",
    "Note",
    "RecordFields",
    "Removal",
    "Repair",
    "Result",
    "apply_removals",
    "apply_repairs",
    "clean",
    "clean_and_explain",
    "clean_record",
    "clean_records",
    "read_jsonl",
    "write_jsonl",
]
