"""``dsaviewer analyze`` over files, case folders and a dataset folder with a broken case."""

from __future__ import annotations

import csv
import hashlib
import json

import cv2
import numpy as np
import pytest
from test_inference_fixtures import (
    FRAME_SHAPE,
    PLATEAU_KEY_FRAME,
    SPACING_MM,
    synthetic_frames,
    write_tiny_weights,
)

from dsaviewer.analyze_cli import main
from dsaviewer.io.clinical import ClinicalRow, ClinicalVariables, write_clinical_csv
from dsaviewer.io.labelme import read_labelme, write_labelme
from dsaviewer.io.writers import write_avi, write_dicom_xa, write_frame_folder
from dsaviewer.resources import demo_case_dir

LABELLED_KEY_FRAME = 12


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return write_tiny_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture
def dataset(tmp_path):
    """case_a: PNG frames with labels (key frame 12); case_b: MJPEG AVI; case_broken: an AVI
    that is not a video; clinical.csv with values for case_a."""
    root = tmp_path / "dataset"
    frames = synthetic_frames()
    write_frame_folder(root / "case_a" / "frames", frames)
    masks = {"tumor": np.zeros(FRAME_SHAPE, bool), "liver": np.zeros(FRAME_SHAPE, bool)}
    masks["liver"][20:100, 30:140] = True
    masks["tumor"][50:70, 75:95] = True
    labels = root / "case_a" / "labels"
    write_labelme(labels / f"{LABELLED_KEY_FRAME:04d}.json", frames[LABELLED_KEY_FRAME], masks,
                  flags={"key_frame": True})
    write_labelme(labels / f"{LABELLED_KEY_FRAME + 1:04d}.json",
                  frames[LABELLED_KEY_FRAME + 1], masks)
    write_avi(root / "case_b" / "video.avi", frames, fps=7.5)
    (root / "case_broken").mkdir()
    (root / "case_broken" / "video.avi").write_bytes(b"RIFF\x00\x00\x00\x00not a video at all")
    write_clinical_csv(root / "clinical.csv", {
        "case_a": ClinicalRow(ClinicalVariables(age=64, sex="M", afp=12.5), response=1),
    })
    return root


def _summary(out) -> dict[str, dict[str, str]]:
    with (out / "summary.csv").open(newline="") as handle:
        return {row["case_id"]: row for row in csv.DictReader(handle)}


def test_dataset_with_a_broken_case_writes_the_others_and_fails(
    dataset, weights, tmp_path, capsys
) -> None:
    out = tmp_path / "out"
    status = main([str(dataset), "--out", str(out), "--weights", str(weights)])

    assert status == 1
    printed = capsys.readouterr()
    assert "[3/3] case_broken: FAILED" in printed.out
    assert "case_broken" in printed.err
    assert not (out / "case_broken").exists()
    summary = _summary(out)
    assert [summary[case]["status"] for case in ("case_a", "case_b", "case_broken")] == [
        "ok", "ok", "failed"]
    assert "video.avi" in summary["case_broken"]["reason"]

    for case in ("case_a", "case_b"):
        document = json.loads((out / case / "result.json").read_text())
        assert document["key_frame"] == {
            "used": PLATEAU_KEY_FRAME, "automatic": PLATEAU_KEY_FRAME, "source": "auto"}
        assert document["backend"] == "torch" and document["device"]
        assert document["timings_ms"]["total"] > 0
        assert summary[case]["lesions"] == str(len(document["lesions"]))
        tumor = cv2.imread(str(out / case / "tumor.png"), cv2.IMREAD_UNCHANGED)
        assert tumor.shape == FRAME_SHAPE and tumor.dtype == np.uint8
        assert set(np.unique(tumor)) <= {0, 255}
        assert int((tumor == 255).sum()) == document["tumor_area_px"]
        liver = cv2.imread(str(out / case / "liver.png"), cv2.IMREAD_UNCHANGED)
        assert int((liver == 255).sum()) == document["liver_area_px"]
        overlay = cv2.imread(str(out / case / "overlay.png"), cv2.IMREAD_UNCHANGED)
        assert overlay.shape == (*FRAME_SHAPE, 3)

    # The dataset's clinical.csv reached case_a only.
    case_a = json.loads((out / "case_a" / "result.json").read_text())["prediction"]
    case_b = json.loads((out / "case_b" / "result.json").read_text())["prediction"]
    assert {"age", "sex", "afp"}.isdisjoint(case_a["missing_clinical"])
    assert "clinical" in case_a["inputs_used"]
    assert len(case_b["missing_clinical"]) == 13


def test_key_frame_from_labels_and_labelme_output(dataset, weights, tmp_path) -> None:
    out = tmp_path / "out"
    status = main([str(dataset / "case_a"), "--out", str(out), "--weights", str(weights),
                   "--key-frame", "labels", "--labelme"])

    assert status == 0
    document = json.loads((out / "case_a" / "result.json").read_text())
    assert document["key_frame"] == {
        "used": LABELLED_KEY_FRAME, "automatic": PLATEAU_KEY_FRAME, "source": "labels"}
    annotation = read_labelme(out / "case_a" / "labels" / f"{LABELLED_KEY_FRAME:04d}.json")
    assert annotation.is_key_frame and annotation.flags["model_prediction"]
    tumor = cv2.imread(str(out / "case_a" / "tumor.png"), cv2.IMREAD_UNCHANGED) == 255
    np.testing.assert_array_equal(annotation.masks["tumor"], tumor)


def test_key_frame_labels_fails_a_plain_video(dataset, weights, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    status = main([str(dataset / "case_b" / "video.avi"), "--out", str(out),
                   "--weights", str(weights), "--key-frame", "labels"])
    assert status == 1
    assert "needs a case folder with labels/" in capsys.readouterr().out


def test_numeric_key_frame_and_explicit_clinical_table(dataset, weights, tmp_path) -> None:
    clinical = tmp_path / "other.csv"
    write_clinical_csv(clinical, {"video": ClinicalRow(ClinicalVariables(crp=3.0))})
    out = tmp_path / "out"
    status = main([str(dataset / "case_b" / "video.avi"), str(dataset / "case_b" / "video.avi"),
                   "--out", str(out), "--weights", str(weights), "--key-frame", "4",
                   "--clinical", str(clinical)])
    assert status == 0
    for case_id in ("video", "video-2"):  # the same file twice: distinct output folders
        document = json.loads((out / case_id / "result.json").read_text())
        assert document["key_frame"]["used"] == 4
        assert document["key_frame"]["source"] == "override"
        assert "crp" not in document["prediction"]["missing_clinical"]


def test_startup_problems_exit_2_naming_them(dataset, weights, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert main([str(dataset), "--out", str(out), "--weights", str(tmp_path / "none")]) == 2
    assert "manifest.json" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,age,sex,hbv,afp,pt,child_pugh,ascites,tbil,alb,ast,alt,crp,bclc\n"
                   "case_a,300,,,,,,,,,,,,\n")
    assert main([str(dataset), "--out", str(out), "--weights", str(weights),
                 "--clinical", str(bad)]) == 2
    assert "age" in capsys.readouterr().err
    assert not out.exists()


def test_bad_key_frame_argument_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["x.avi", "--key-frame", "first"])
    assert caught.value.code == 2
    assert "not auto, labels or a frame index" in capsys.readouterr().err


def test_results_name_the_input_by_file_name_and_hash_not_by_path(
    dataset, weights, tmp_path
) -> None:
    out = tmp_path / "out"
    main([str(dataset / "case_b"), "--out", str(out), "--weights", str(weights)])
    text = (out / "case_b" / "result.json").read_text()
    document = json.loads(text)
    video = dataset / "case_b" / "video.avi"
    assert document["source"] == "video.avi"
    assert document["source_sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()
    assert str(dataset) not in text and "source_path" not in document

    recorded = tmp_path / "recorded"
    main([str(dataset / "case_b"), "--out", str(recorded), "--weights", str(weights),
          "--record-path"])
    document = json.loads((recorded / "case_b" / "result.json").read_text())
    assert document["source_path"] == str(video.absolute())
    assert document["source_sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()


def _lesion_areas(out, case_id: str, unit: str) -> list[float]:
    document = json.loads((out / case_id / "result.json").read_text())
    return [lesion[unit] for lesion in document["lesions"]]


def test_the_smallest_lesion_in_pixels_is_set_on_the_command_line(tmp_path) -> None:
    """The demo run (an AVI: no pixel spacing) with the shipped weights: its tumors are
    listed down to --min-lesion-px and no further."""
    demo = demo_case_dir()
    every = tmp_path / "every"
    fast = ["--backend", "onnx", "--device", "cpu"]
    assert main([str(demo), "--out", str(every), *fast, "--min-lesion-px", "0"]) == 0
    areas = sorted(_lesion_areas(every, demo.name, "area_px"))
    assert len(set(areas)) >= 2  # tumors of different sizes, or the limit proves nothing
    limit = int(areas[len(areas) // 2])  # the middle one is kept, those below it are not

    limited = tmp_path / "limited"
    assert main([str(demo), "--out", str(limited), *fast, "--min-lesion-px", str(limit)]) == 0
    kept = _lesion_areas(limited, demo.name, "area_px")
    assert sorted(kept) == [area for area in areas if area >= limit]
    assert len(kept) < len(areas)
    document = json.loads((limited / demo.name / "result.json").read_text())
    assert document["min_lesion_size"] == {"area_mm2": 4.0, "area_px": limit,
                                           "applied": "area_px"}


def test_the_smallest_lesion_in_mm2_holds_for_a_run_with_a_pixel_spacing(tmp_path) -> None:
    # Constant maps: one lesion, the whole field, whose area decides against each limit.
    weights = write_tiny_weights(tmp_path / "weights", tumor_bias=3.0, liver_bias=3.0)
    run = write_dicom_xa(tmp_path / "run.dcm", synthetic_frames(), 7.5, SPACING_MM)
    base = ["--weights", str(weights), "--backend", "torch", "--device", "cpu"]
    assert main([str(run), "--out", str(tmp_path / "default"), *base]) == 0
    (area_mm2,) = _lesion_areas(tmp_path / "default", "run", "area_mm2")

    for limit, listed in ((area_mm2, 1), (area_mm2 + 1, 0)):
        out = tmp_path / f"limit {limit}"
        # A pixel limit beyond the lesion changes nothing: the run states its spacing.
        assert main([str(run), "--out", str(out), *base, "--min-lesion-mm2", str(limit),
                     "--min-lesion-px", "1000000"]) == 0
        assert len(_lesion_areas(out, "run", "area_mm2")) == listed, limit


@pytest.mark.parametrize(("option", "value"), [
    ("--min-lesion-px", "-1"), ("--min-lesion-px", "2.5"), ("--min-lesion-mm2", "-0.5"),
    ("--min-lesion-mm2", "nan"), ("--min-lesion-mm2", "four"),
])
def test_a_bad_lesion_size_is_a_usage_error_naming_the_option(option, value, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["x.avi", option, value])
    assert caught.value.code == 2
    assert f"argument {option}: {value!r} is not" in capsys.readouterr().err
