"""Synthetic datasets on disk: the case-folder contract of DESIGN.md, read back with the
viewer's own readers, and the ``python -m training synth`` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dsaviewer.io.case_folder import open_case
from dsaviewer.io.clinical import read_clinical_csv
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.video import load_video
from training.__main__ import main as training_main
from training.synth import SynthOptions, generate_case, write_dataset
from training.synth.acquisition import sample_acquisition
from training.synth.case import case_streams
from training.synth.case_writer import read_truth_csv, write_case

SIZE = (256, 256)


def _options(video_format: str, **overrides) -> SynthOptions:
    return SynthOptions(sizes=((SIZE, 1.0),), formats=((video_format, 1.0),), **overrides)


def _first_index(options: SynthOptions, seed: int, wanted) -> int:
    """The first case index whose acquisition satisfies ``wanted`` (no rendering needed)."""
    for index in range(200):
        if wanted(sample_acquisition(case_streams(seed, index)["acquisition"], options)):
            return index
    raise AssertionError("no such case in 200 draws")


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.parametrize(
    ("video_format", "wanted"),
    [
        ("avi", lambda a: True),
        ("png", lambda a: True),
        ("dcm", lambda a: a.bits == 12 and a.monochrome == "MONOCHROME1"),
        ("dcm", lambda a: a.bits == 8),
    ],
)
def test_written_case_reads_back_with_the_viewers_readers(tmp_path, video_format, wanted) -> None:
    options = _options(video_format, p_high_bit_dicom=0.5)
    index = _first_index(options, seed=4, wanted=wanted)
    case = generate_case(4, index, options)
    folder = write_case(case, tmp_path)

    video = load_video(folder)
    assert video.frames.shape == case.frames.shape
    assert video.bits_stored == case.bits_stored
    if video_format == "avi":  # MJPEG is lossy
        difference = np.abs(video.frames.astype(int) - case.frames.astype(int))
        assert difference.mean() < 2.0
        assert video.fps == pytest.approx(case.fps, rel=1e-3)
    else:
        np.testing.assert_array_equal(video.frames, case.frames)
    if video_format == "dcm":
        assert video.fps == pytest.approx(case.fps, rel=1e-3)
        assert video.pixel_spacing_mm == pytest.approx(case.pixel_spacing_mm, rel=1e-4)

    opened = open_case(folder)
    assert sorted(opened.label_files) == [labels.frame_index for labels in case.labels]
    for labels in case.labels:
        annotation = read_labelme(opened.label_files[labels.frame_index])
        assert annotation.is_key_frame == (labels.frame_index == case.key_frame)
        assert annotation.image_shape == case.frames.shape[1:]
        assert _iou(annotation.masks["liver"], labels.liver) > 0.98
        assert _iou(annotation.masks["tumor"], labels.tumor) > 0.95


def test_dataset_tables_and_independence_from_n(tmp_path) -> None:
    options = _options("png")
    whole = write_dataset(tmp_path / "whole", n=3, seed=6, options=options)
    piece = write_dataset(tmp_path / "piece", n=1, seed=6, options=options, start=2)

    table = read_clinical_csv(tmp_path / "whole" / "clinical.csv")
    assert list(table) == [report.case_id for report in whole.cases]
    for report in whole.cases:
        case = generate_case(6, report.index, options)
        assert table[report.case_id].response == case.patient.response
        assert (
            table[report.case_id].variables.as_strings() == report.clinical.variables.as_strings()
        )

    truth = read_truth_csv(tmp_path / "whole" / "truth.csv")
    assert [row["case_id"] for row in truth] == list(table)
    assert all(0.0 < float(row["response_probability"]) < 1.0 for row in truth)
    # The default mix shows every tumor: what the run shows is the whole truth.
    assert all(row["visible_response_probability"] == row["response_probability"]
               for row in truth)

    case_id = piece.cases[0].case_id
    assert case_id == whole.cases[2].case_id
    same_table = read_clinical_csv(tmp_path / "piece" / "clinical.csv")
    assert same_table[case_id] == table[case_id]
    assert read_truth_csv(tmp_path / "piece" / "truth.csv")[0] == truth[2]
    for name in ("labels/{:04d}.json", "labels/{:04d}.png"):
        relative = name.format(int(truth[2]["key_frame"]))
        assert (tmp_path / "piece" / case_id / relative).read_bytes() == (
            tmp_path / "whole" / case_id / relative
        ).read_bytes()


def test_a_dataset_is_rewritten_but_other_folders_are_refused(tmp_path) -> None:
    options = _options("avi")
    dataset = tmp_path / "dataset"
    write_dataset(dataset, n=2, seed=1, options=options)
    write_dataset(dataset, n=1, seed=2, options=options)  # replaces the earlier cases
    manifest = json.loads((dataset / "synth.json").read_text())
    assert manifest["cases"] == ["synth_s2_00000"]
    assert sorted(p.name for p in dataset.iterdir() if p.is_dir()) == ["synth_s2_00000"]

    other = tmp_path / "someone_elses"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        write_dataset(other, n=1, seed=0, options=options)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    write_dataset(other, n=1, seed=0, options=options, force=True)
    assert (other / "notes.txt").read_text() == "keep me"
    assert (other / "synth_s0_00000" / "video.avi").is_file()


def test_command_line(tmp_path, capsys) -> None:
    out = tmp_path / "cli"
    code = training_main(
        ["synth", str(out), "--n", "2", "--seed", "9", "--sizes", "256x256", "--formats", "png"]
    )
    assert code == 0
    progress = capsys.readouterr().err
    assert "[1/2] synth_s9_00000" in progress and "wrote 2 cases" in progress
    assert len(read_clinical_csv(out / "clinical.csv")) == 2
    assert all((out / f"synth_s9_0000{i}" / "frames").is_dir() for i in range(2))

    blocked = tmp_path / "blocked"
    blocked.mkdir()
    Path(blocked / "x").write_text("")
    assert training_main(["synth", str(blocked), "--n", "1", "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err


def test_command_line_rejects_bad_sizes(capsys) -> None:
    with pytest.raises(SystemExit):
        training_main(["synth", "unused", "--sizes", "12x12"])
    assert "128 to 4096" in capsys.readouterr().err


def test_command_line_forces_a_family_value_of_the_broad_mix(tmp_path, capsys) -> None:
    out = tmp_path / "small"
    common = ["--n", "2", "--seed", "9", "--sizes", "256x256", "--formats", "png", "--quiet"]
    assert training_main(["synth", str(out), "--mix", "broad", *common,
                          "--family", "phenotype=solitary_small"]) == 0
    truth = read_truth_csv(out / "truth.csv")
    assert [row["phenotype"] for row in truth] == ["solitary_small"] * 2
    assert all(row["n_tumors"] == "1" for row in truth)
    # The other families draw what they draw without the forced value.
    assert training_main(["synth", str(tmp_path / "free"), "--mix", "broad", *common]) == 0
    free = read_truth_csv(tmp_path / "free" / "truth.csv")
    assert [row["territory"] for row in truth] == [row["territory"] for row in free]
    capsys.readouterr()
    assert training_main(["synth", str(tmp_path / "x"), *common,
                          "--family", "phenotype=solitary_small"]) == 2  # default mix
    assert "broad mix" in capsys.readouterr().err
    assert training_main(["synth", str(tmp_path / "y"), "--mix", "broad", *common,
                          "--family", "phenotype=none", "--family", "phenotype=classic"]) == 2
    assert "two values" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        training_main(["synth", str(tmp_path / "z"), "--family", "phenotype=tiny"])
    assert "solitary_small" in capsys.readouterr().err


def test_several_processes_write_the_same_dataset(tmp_path) -> None:
    options = _options("png")
    serial = write_dataset(tmp_path / "serial", n=3, seed=12, options=options)
    parallel = write_dataset(tmp_path / "parallel", n=3, seed=12, options=options, workers=2)
    assert [r.truth for r in parallel.cases] == [r.truth for r in serial.cases]
    assert (tmp_path / "parallel" / "clinical.csv").read_bytes() == (
        tmp_path / "serial" / "clinical.csv"
    ).read_bytes()
