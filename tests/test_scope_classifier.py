"""The scope classifier: its input maps, its folder (manifest, checksum, version), the bundled
one, and fit-scope / evaluate-scope end to end on tiny generated data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dsaviewer.core.scope_input import SCOPE_CHANNELS, SCOPE_INPUT_SIZE, scope_input
from dsaviewer.inference.manifest import WeightsError
from dsaviewer.inference.scope_score import ScopeClassifier, read_scope_manifest, scope_classifier
from dsaviewer.io.writers import write_avi
from dsaviewer.resources import scope_dir
from training.__main__ import main as training_main
from training.synth.dataset_writer import write_dataset
from training.synth.negatives import generate_negative
from training.synth.negatives_cli import KINDS_FILE
from training.synth.options import SynthOptions

CHANNEL = {name: index for index, name in enumerate(SCOPE_CHANNELS)}


def _blush_clip(frames: int = 12, peak: int = 6) -> np.ndarray:
    """A dark field where a square on the left fills with contrast up to ``peak``, then fades."""
    clip = np.full((frames, 256, 256), 0.1, np.float32)
    for t in range(frames):
        clip[t, 64:128, 16:80] += 0.5 * max(0.0, 1.0 - abs(t - peak) / peak)
    return clip


def test_the_maps_show_where_and_when_contrast_arrives() -> None:
    maps = scope_input(_blush_clip(), key_frame=6)
    assert maps.shape == (len(SCOPE_CHANNELS), SCOPE_INPUT_SIZE, SCOPE_INPUT_SIZE)
    assert maps.dtype == np.float32
    blush, background = (slice(20, 28), slice(8, 16)), (slice(40, 60), slice(40, 60))
    assert maps[CHANNEL["max_enhancement"]][blush] == pytest.approx(0.5, abs=1e-5)
    assert maps[CHANNEL["key_enhancement"]][blush] == pytest.approx(0.5, abs=1e-5)
    assert maps[CHANNEL["peak_time"]][blush] == pytest.approx(6 / 11, abs=1e-5)
    for name in ("max_enhancement", "enhancement_std", "peak_time"):
        assert np.abs(maps[CHANNEL[name]][background]).max() < 1e-6, name
    assert maps[CHANNEL["key_frame"]][background] == pytest.approx(0.1)
    assert (maps[CHANNEL["field"]] == 1).all()


def test_the_maps_are_zero_outside_the_exposed_field() -> None:
    outside = np.zeros((256, 256), bool)
    outside[:, 128:] = True
    maps = scope_input(_blush_clip(), 6, outside)
    assert (maps[:, :, 33:] == 0).all()
    assert (maps[CHANNEL["field"], :, :31] == 1).all()


def test_a_key_frame_outside_the_clip_is_refused() -> None:
    with pytest.raises(ValueError, match="key frame"):
        scope_input(_blush_clip(frames=5), key_frame=5)


def test_the_bundled_classifier_loads_and_scores_between_0_and_1() -> None:
    classifier = scope_classifier()
    assert 0.0 < classifier.threshold < 1.0
    provenance = classifier.manifest.provenance
    assert provenance["runs"]["liver"] > 0 and provenance["validation"]
    empty = np.zeros((len(SCOPE_CHANNELS), SCOPE_INPUT_SIZE, SCOPE_INPUT_SIZE), np.float32)
    assert 0.0 <= classifier.score(empty) <= 1.0
    assert classifier.score(scope_input(_blush_clip(), 6)) != classifier.score(empty)


@pytest.fixture
def scope_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(scope_dir(), tmp_path / "scope"))


def _edit_manifest(folder: Path, change) -> None:  # noqa: ANN001
    path = folder / "manifest.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_a_missing_or_foreign_manifest_is_named(scope_copy: Path) -> None:
    (scope_copy / "manifest.json").write_text("{not json")
    with pytest.raises(WeightsError, match="cannot read the scope classifier's manifest"):
        read_scope_manifest(scope_copy)
    (scope_copy / "manifest.json").write_text(json.dumps({"format": "dsaviewer-weights"}))
    with pytest.raises(WeightsError, match="not a dsaviewer-scope manifest"):
        read_scope_manifest(scope_copy)
    (scope_copy / "manifest.json").unlink()
    with pytest.raises(WeightsError, match="manifest is missing"):
        ScopeClassifier(scope_copy)


def test_a_classifier_of_another_program_version_is_refused(scope_copy: Path) -> None:
    _edit_manifest(scope_copy, lambda d: d["model"]["input"].update(channels=["key_frame"]))
    with pytest.raises(WeightsError, match="belongs to another version"):
        ScopeClassifier(scope_copy)


def test_a_replaced_graph_fails_its_checksum(scope_copy: Path) -> None:
    graph = scope_copy / read_scope_manifest(scope_copy).file
    graph.write_bytes(graph.read_bytes() + b"\0")
    with pytest.raises(WeightsError, match="checksum mismatch"):
        ScopeClassifier(scope_copy)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("scope-data")
    liver = root / "liver"
    options = SynthOptions(sizes=(((128, 128), 1.0),), formats=(("avi", 1.0),), frames=(14, 16))
    write_dataset(liver, 8, seed=5, options=options)
    negatives = root / "negatives"
    rows = ["case_id,kind,seed,index"]
    for kind in ("renal", "coronary"):
        for index in range(4):
            run = generate_negative(kind, 9, index, (128, 128))
            case_id = f"{kind}_s9_{index:05d}"
            write_avi(negatives / case_id / "video.avi", run.frames, run.fps)
            rows.append(f"{case_id},{kind},9,{index}")
    (negatives / KINDS_FILE).write_text("\n".join(rows) + "\n")
    return liver, negatives


def test_fit_scope_then_evaluate_scope(tiny_runs: tuple[Path, Path], tmp_path: Path) -> None:
    liver, negatives = tiny_runs
    cache, out = tmp_path / "cache", tmp_path / "scope"
    data = ["--liver", str(liver), "--negatives", str(negatives), "--cache", str(cache)]
    assert training_main(["fit-scope", *data, "--out", str(out), "--epochs", "2",
                          "--batch-size", "4", "--validation-share", "0.25",
                          "--hold-out-kind", "coronary"]) == 0
    classifier = ScopeClassifier(out)
    provenance = classifier.manifest.provenance
    # 8 liver and 4 renal runs fitted or kept back; the 4 coronary runs held out.
    assert provenance["runs"]["fitted"] + provenance["runs"]["validation"] == 12
    assert provenance["held_out_kinds"] == ["coronary"]
    assert set(provenance["validation"]) == {"liver", "renal"}
    assert list(cache.glob("*.scope-inputs.npz"))  # read once, cached

    report_dir = tmp_path / "report"
    assert training_main(["evaluate-scope", *data, "--scope", str(out),
                          "--out", str(report_dir)]) == 0
    report = json.loads((report_dir / "scope.json").read_text())
    assert report["threshold"] == pytest.approx(classifier.threshold)
    assert {name: entry["n"] for name, entry in report["kinds"].items()} == {
        "liver": 8, "renal": 4, "coronary": 4}
    assert report["scope_ms"]["median"] > 0
    assert (report_dir / "scope-reliability.png").stat().st_size > 0


def test_the_inputs_cache_is_read_again_when_the_folder_changed(
    tiny_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    from training.scope_inputs import folder_inputs
    from training.synth.negatives_cli import read_kinds

    negatives = Path(shutil.copytree(tiny_runs[1], tmp_path / "negatives"))
    cache = tmp_path / "cache"
    assert len(folder_inputs(negatives, cache, read_kinds(negatives)).case_ids) == 8
    shutil.rmtree(negatives / "renal_s9_00003")
    kinds = read_kinds(negatives)
    del kinds["renal_s9_00003"]
    assert len(folder_inputs(negatives, cache, kinds).case_ids) == 7  # not the cached 8

