"""Worked examples: the cleaner as a step in plain Python, Hugging Face datasets and datatrove.

Each example is short enough to copy into the README; the assertions after it check that it
does what it says, on the real seed articles, with no network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cleaner import Cleaner
from cleaner.records import RecordFields, clean_record, clean_records, read_jsonl, write_jsonl

SEEDS = sorted((Path(__file__).parent.parent / "fixtures" / "seeds" / "input").glob("*.txt"))


@cache
def _cleaner() -> Cleaner:
    return Cleaner()


def _cleaned(text: str) -> str:
    return _cleaner().clean(text).text


def test_plain_python_generator_in_generator_out(tmp_path: Path) -> None:
    # --- example: plain Python ---
    def articles() -> Iterator[dict[str, Any]]:  # any iterable of dicts, read lazily
        for path in SEEDS:
            yield {"id": path.stem, "text": path.read_text("utf-8"), "source": {"file": path.name}}

    cleaned = clean_records(articles(), summary_field="cleaner")  # a generator: nothing read yet
    write_jsonl(tmp_path / "clean.jsonl.gz", cleaned)  # atomic; .gz and .zst by the name
    for record in read_jsonl(tmp_path / "clean.jsonl.gz"):
        print(record["id"], record["cleaner"]["removed_chars"])
    # --- end ---

    back = list(read_jsonl(tmp_path / "clean.jsonl.gz"))
    assert [r["id"] for r in back] == [p.stem for p in SEEDS]
    for record, path in zip(back, SEEDS, strict=True):
        assert record["text"] == _cleaned(path.read_text("utf-8"))
        assert record["source"] == {"file": path.name}
        assert record["cleaner"]["changed"] is True


def test_hugging_face_datasets_map(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")

    rows = [{"id": p.stem, "text": p.read_text("utf-8"), "lang": "en"} for p in SEEDS]
    # --- example: Hugging Face datasets ---
    dataset = datasets.Dataset.from_list(rows)  # or datasets.load_dataset(...)
    cleaned = dataset.map(clean_record, num_proc=2)  # each row is a record; other columns stay
    # Other field names, and a summary column:
    fields = RecordFields(text_field="text", summary_field="cleaner")
    summarised = dataset.map(clean_record, fn_kwargs={"fields": fields})
    # --- end ---

    assert cleaned.column_names == ["id", "text", "lang"]
    assert cleaned["id"] == [r["id"] for r in rows] and cleaned["lang"] == ["en"] * len(rows)
    assert cleaned["text"] == [_cleaned(r["text"]) for r in rows]
    assert summarised["text"] == cleaned["text"]
    first = summarised[0]["cleaner"]
    assert first["changed"] is True and first["removals"] > 0
    assert sum(first["removed_chars"].values()) > 0


def test_datatrove_pipeline_step(tmp_path: Path) -> None:
    pytest.importorskip("datatrove")
    pytest.importorskip("orjson", reason="datatrove's JSONL reader and writer need orjson")
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.base import PipelineStep
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    (tmp_path / "in").mkdir()
    rows = [{"id": p.stem, "text": p.read_text("utf-8")} for p in SEEDS]
    (tmp_path / "in" / "seeds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    # --- example: datatrove ---
    class CleanText(PipelineStep):
        name = "cleaner"
        type = "✂️ - FORMAT"

        def run(self, data, rank=0, world_size=1):
            cleaner = Cleaner()
            for doc in data:
                with self.track_time():
                    result = cleaner.clean(doc.text)
                doc.text = result.text
                doc.metadata["removed_chars"] = result.removed_chars()
                self.stat_update("changed" if result.changed else "unchanged")
                yield doc

    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(tmp_path / "in")),
            CleanText(),
            JsonlWriter(str(tmp_path / "out")),  # writes out/00000.jsonl.gz
        ],
        tasks=1,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    # --- end ---

    written = list(read_jsonl(tmp_path / "out" / "00000.jsonl.gz"))
    assert [d["id"] for d in written] == [r["id"] for r in rows]
    for doc, row in zip(written, rows, strict=True):
        result = _cleaner().clean(row["text"])
        assert doc["text"] == result.text
        assert doc["metadata"]["removed_chars"] == result.removed_chars()
    stats = json.loads((tmp_path / "logs" / "stats.json").read_text())
    step = next(s for s in stats if s["name"] == "✂️ - FORMAT: cleaner")
    assert step["stats"]["changed"] == len(rows)
