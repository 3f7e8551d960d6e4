"""The dataset reader on real generated case folders: what it reads, caches and rejects."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import training.dataset as dataset_module
from dsaviewer.core.preprocess import make_geometry, mask_to_model
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_avi
from training.dataset import make_samples, read_dataset
from training.synth import SynthOptions, write_dataset

SIZE = 64


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dataset") / "data"
    options = SynthOptions(sizes=(((256, 256), 1.0),), formats=(("avi", 1.0), ("png", 1.0)),
                           frames=(14, 16))
    write_dataset(root, n=3, seed=5, options=options)
    return root


def test_reads_every_case_with_masks_matching_its_labelme_files(dataset: Path, tmp_path: Path):
    report = read_dataset(dataset, size=SIZE, cache_dir=tmp_path, workers=1)
    assert report.rejected == []
    assert len(report.records) == 3
    record = report.records[0]
    case_dir = dataset / record.case_id
    video = load_video(case_dir)
    assert record.clip.shape == (video.n_frames, SIZE, SIZE) and record.clip.dtype == np.uint8
    assert record.labelled[0].frame_index == record.key_frame  # the key frame comes first
    key_json = case_dir / "labels" / f"{record.key_frame:04d}.json"
    annotation = read_labelme(key_json)
    assert annotation.flags.get("key_frame") is True
    geometry = make_geometry(video.frames, size=SIZE, white_level=video.max_value)
    expected_liver = mask_to_model(annotation.masks["liver"], geometry)
    assert np.array_equal(record.labelled[0].liver, expected_liver)
    assert record.clinical_values.shape == record.clinical_present.shape
    assert record.response in (0, 1, None)


def test_samples_stack_the_ten_frames_ending_at_each_labelled_frame(dataset: Path, tmp_path):
    record = read_dataset(dataset, size=SIZE, cache_dir=tmp_path, workers=1).records[1]
    samples = make_samples(record)
    assert [s.frame_index for s in samples] == [label.frame_index for label in record.labelled]
    assert samples[0].is_key_frame and not samples[1].is_key_frame
    frames01 = record.frames01()
    for sample in samples:
        assert sample.frames.shape == (10, SIZE, SIZE)
        assert np.array_equal(sample.frames[-1], frames01[sample.frame_index])
        expected_fd = np.abs(frames01[sample.frame_index] - frames01[sample.frame_index - 9])
        assert np.allclose(sample.fd, expected_fd)


def test_second_read_comes_from_the_cache_without_decoding(dataset, tmp_path, monkeypatch):
    first = read_dataset(dataset, size=SIZE, cache_dir=tmp_path, workers=1)

    def no_decoding(path):
        raise AssertionError(f"decoded {path} again")

    monkeypatch.setattr(dataset_module, "load_video", no_decoding)
    second = read_dataset(dataset, size=SIZE, cache_dir=tmp_path, workers=1)
    for a, b in zip(first.records, second.records, strict=True):
        assert a.case_id == b.case_id and a.key_frame == b.key_frame
        assert np.array_equal(a.clip, b.clip)
        assert np.array_equal(a.labelled[0].tumor, b.labelled[0].tumor)


def test_two_processes_filling_one_cache_at_once_both_read_every_case(dataset, tmp_path,
                                                                       monkeypatch):
    # A second process (another pid) caches the same case while this one is between writing
    # its temporary file and moving it into place: a run and its held-out twin started together.
    real_savez, real_getpid = np.savez, os.getpid
    other_process = []

    def savez_then_another_process_caches(file, **arrays):
        real_savez(file, **arrays)
        if not other_process:
            other_process.append(True)
            os.getpid = lambda: real_getpid() + 1
            try:
                other = read_dataset(dataset, size=SIZE, cache_dir=tmp_path, workers=1)
            finally:
                os.getpid = real_getpid
            assert not other.rejected and len(other.records) == 3

    monkeypatch.setattr(dataset_module.np, "savez", savez_then_another_process_caches)
    report = read_dataset(dataset, size=SIZE, cache_dir=tmp_path, workers=1)
    assert other_process and not report.rejected and len(report.records) == 3
    assert not list(tmp_path.glob("*.tmp.npz"))


def test_a_malformed_case_is_reported_by_name_and_the_others_still_load(dataset, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(dataset, copy, ignore=shutil.ignore_patterns(".cache"))
    broken = sorted(p for p in copy.iterdir() if p.is_dir())[0]
    for label_file in (broken / "labels").glob("*.json"):
        label_file.write_text("{ not json")
    unlabelled = copy / "no_labels"
    unlabelled.mkdir()
    write_avi(unlabelled / "video.avi", np.full((12, 64, 64), 128, np.uint8), fps=7.5)

    report = read_dataset(copy, size=SIZE, cache_dir=tmp_path / "cache", workers=2)
    rejected = dict(report.rejected)
    assert set(rejected) == {broken.name, "no_labels"}
    assert "not valid JSON" in rejected[broken.name]
    assert "labels" in rejected["no_labels"]
    assert len(report.records) == 2
