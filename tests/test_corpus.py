"""Every reproducer in tests/corpus/ (built by tests/corpus/make_corpus.py) is refused by its
reader with an InputError that names the file and says what is wrong, never a foreign
exception, a hang or a huge allocation."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from dsaviewer.errors import InputError
from dsaviewer.io.case_state import read_case_state
from dsaviewer.io.clinical import read_clinical_csv
from dsaviewer.io.frame_labels import read_frame_labels
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.recovery import read_recovery
from dsaviewer.io.video import load_video

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
READERS = {
    "load_video": load_video,
    "read_labelme": read_labelme,
    "read_frame_labels": read_frame_labels,
    "read_case_state": read_case_state,
    "read_clinical_csv": read_clinical_csv,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reproducer_is_refused_with_a_clear_input_error(name: str) -> None:
    path = CORPUS / name
    reader, words = EXPECTED[name]["reader"], EXPECTED[name]["words"]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if reader == "read_recovery":
        # Recovery never raises: a case must open even when its recovery files are damaged.
        recovery = read_recovery(path)
        assert recovery is not None and recovery.frames == ()
        (problem,) = recovery.problems
        assert words in problem and str(path) in problem
    else:
        with pytest.raises(InputError) as raised:
            READERS[reader](path)
        assert words in str(raised.value)
        assert raised.value.source is not None and path.name in raised.value.source
        assert "Traceback" not in str(raised.value)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 500, f"reading {name} raised peak memory by {grown_mib:.0f} MiB"


def test_the_corpus_covers_every_reader() -> None:
    used = {spec["reader"] for spec in EXPECTED.values()}
    assert used == {*READERS, "read_recovery"}
