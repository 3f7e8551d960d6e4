"""PACS transfers against a real Orthanc: echo, find, get into the cache, send; and how each
fails (wrong AE title, closed port, a PACS that dies mid-transfer, cancel)."""

from __future__ import annotations

import contextlib
import datetime
import logging
import socket
import threading

import numpy as np
import pydicom
import pytest
from orthanc_server import closed_port
from pydicom.uid import generate_uid

from dsaviewer.errors import InputError
from dsaviewer.io.pacs import (
    SETUP_ATTEMPTS,
    PacsError,
    PacsNode,
    SeriesQuery,
    echo,
    find_series,
    study_of_series,
)
from dsaviewer.io.pacs_get import PacsCancelled, get_series
from dsaviewer.io.pacs_send import send_files
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_dicom_xa


def xa_series(folder, patient_id: str, count: int = 3, shape=(64, 80)) -> list:
    """``count`` single-frame XA files of one new series (one study), for patient_id."""
    study, series = generate_uid(), generate_uid()
    frames = np.random.default_rng(count).integers(0, 255, (count, *shape)).astype(np.uint8)
    paths = []
    for index in range(count):
        path = write_dicom_xa(folder / f"{index}.dcm", frames[index:index + 1], 10.0,
                              patient={"PatientID": patient_id, "PatientName": "Test^Pacs",
                                       "StudyDate": "20240105"})
        dataset = pydicom.dcmread(path)
        dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study, series
        dataset.InstanceNumber = index + 1
        dataset.save_as(path)
        paths.append(path)
    return paths


def test_echo_find_get_send(orthanc, tmp_path) -> None:
    node = orthanc.node()
    echo(node)
    run = write_dicom_xa(tmp_path / "run.dcm",
                         np.random.default_rng(0).integers(0, 4000, (7, 40, 50)).astype(np.uint16),
                         15.0, patient={"PatientID": "FIND-1", "StudyDate": "20230301"})
    (tmp_path / "other").mkdir()
    other = xa_series(tmp_path / "other", "FIND-2")
    assert len(send_files(node, [run, *other])) == 4

    found = find_series(node, SeriesQuery(patient_id="FIND-1", modality="XA"))
    assert [(s.modality, s.number_of_frames, s.number_of_instances) for s in found] == [
        ("XA", 7, 1)]
    assert found[0].study_uid == pydicom.dcmread(run).StudyInstanceUID
    assert found[0].as_dict()["NumberOfFrames"] == 7
    series_of_2 = find_series(node, SeriesQuery(patient_id="FIND-2"))
    assert [(s.number_of_frames, s.number_of_instances) for s in series_of_2] == [(3, 3)]
    # Date range and modality narrow the search.
    assert find_series(node, SeriesQuery(patient_id="FIND-1",
                                         date_from=datetime.date(2023, 3, 2))) == []
    assert len(find_series(node, SeriesQuery(patient_id="FIND-1",
                                             date_from=datetime.date(2023, 3, 1),
                                             date_to=datetime.date(2023, 3, 1)))) == 1
    assert find_series(node, SeriesQuery(patient_id="FIND-1", modality="RF")) == []
    assert study_of_series(node, found[0].series_uid) == found[0].study_uid

    progress = []
    retrieved = get_series(node, found[0].study_uid, found[0].series_uid, tmp_path / "cache",
                           progress=lambda done, total: progress.append(done))
    assert progress == [1]
    np.testing.assert_array_equal(load_video(retrieved.folder).frames, load_video(run).frames)
    # A second retrieval replaces the first copy.
    again = get_series(node, found[0].study_uid, found[0].series_uid, tmp_path / "cache")
    assert again == retrieved
    three = get_series(node, series_of_2[0].study_uid, series_of_2[0].series_uid,
                       tmp_path / "cache")
    assert len(three.files) == 3
    assert load_video(three.folder).n_frames == 3
    assert _leftovers(tmp_path / "cache") == sorted([retrieved.folder, three.folder])


def test_nothing_identifying_reaches_the_logs(orthanc, tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    run = write_dicom_xa(tmp_path / "run.dcm", np.zeros((2, 16, 16), np.uint8), 5.0,
                         patient={"PatientID": "SECRET-77", "PatientName": "Hidden^Name"})
    send_files(orthanc.node(), [run])
    [found] = find_series(orthanc.node(), SeriesQuery(patient_id="SECRET-77"))
    get_series(orthanc.node(), found.study_uid, found.series_uid, tmp_path / "cache")
    assert "SECRET-77" not in caplog.text and "Hidden" not in caplog.text


def test_wrong_called_ae_title_is_refused_with_the_reason(orthanc) -> None:
    with pytest.raises(PacsError, match="refused the association.*Called AE title"):
        echo(orthanc.node(called_aet="NOT-ORTHANC"))


def test_unknown_calling_ae_title_is_refused_with_the_reason(orthanc) -> None:
    with pytest.raises(PacsError, match="refused the association.*Calling AE title.*STRANGER"):
        find_series(orthanc.node(calling_aet="STRANGER"), SeriesQuery())


def test_a_refusal_names_its_reason_every_time(orthanc) -> None:
    # Orthanc closes the connection right after its rejection; read in the other order the
    # reason was lost on about 1 association in 20.
    for _ in range(30):
        with pytest.raises(PacsError, match="refused the association.*Called AE title"):
            echo(orthanc.node(called_aet="NOT-ORTHANC"))


@contextlib.contextmanager
def tcp_listener(hang_up: bool):
    """A TCP port that is no DICOM node: it hangs up at once or holds every connection
    silently. Yields the port and the list of connections it took."""
    server = socket.create_server(("127.0.0.1", 0))
    taken: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = server.accept()
                taken.append(connection)
                if hang_up:
                    connection.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1], taken
    finally:
        server.close()
        for connection in taken:
            connection.close()


def test_a_node_that_hangs_up_at_once_is_asked_again_then_named() -> None:
    closed = "closed the association while it was being set up"
    with tcp_listener(hang_up=True) as (port, taken), pytest.raises(PacsError, match=closed):
        echo(PacsNode("127.0.0.1", port, "ORTHANC", timeout_s=5))
    assert len(taken) == SETUP_ATTEMPTS


def test_a_port_that_never_answers_is_named_after_one_timeout() -> None:
    silent = "gave no DICOM answer in 1 s"
    with tcp_listener(hang_up=False) as (port, taken), pytest.raises(PacsError, match=silent):
        echo(PacsNode("127.0.0.1", port, "ORTHANC", timeout_s=1))
    assert len(taken) == 1


def test_closed_port_says_nothing_answered() -> None:
    node = PacsNode("127.0.0.1", closed_port(), "ORTHANC", timeout_s=5)
    with pytest.raises(PacsError, match="cannot reach .*no DICOM service answered"):
        echo(node)


def test_unknown_series_is_an_error_and_leaves_no_folder(orthanc, tmp_path) -> None:
    # Orthanc answers with a failure status; other PACS with success and no instances.
    with pytest.raises(PacsError, match="failure status 0x|holds no instances"):
        get_series(orthanc.node(), generate_uid(), generate_uid(), tmp_path / "cache")
    assert _leftovers(tmp_path / "cache") == []


def test_pacs_dying_mid_transfer_leaves_nothing_in_the_cache(own_orthanc, tmp_path) -> None:
    (tmp_path / "run").mkdir()
    paths = xa_series(tmp_path / "run", "DROP-1", count=6, shape=(256, 256))
    send_files(own_orthanc.node(), paths)
    dataset = pydicom.dcmread(paths[0])

    def die_after_first(done: int, total: int | None) -> None:
        if done == 1:
            own_orthanc.kill()

    with pytest.raises(PacsError, match="dropped the association after 1 instance"):
        get_series(own_orthanc.node(), dataset.StudyInstanceUID, dataset.SeriesInstanceUID,
                   tmp_path / "cache", progress=die_after_first)
    assert _leftovers(tmp_path / "cache") == []


def test_cancel_keeps_nothing_and_an_earlier_copy_survives(orthanc, tmp_path) -> None:
    (tmp_path / "run").mkdir()
    paths = xa_series(tmp_path / "run", "CANCEL-1", count=4)
    node = orthanc.node()
    send_files(node, paths)
    dataset = pydicom.dcmread(paths[0])
    uids = (dataset.StudyInstanceUID, dataset.SeriesInstanceUID)
    first = get_series(node, *uids, tmp_path / "cache")
    cancel = threading.Event()

    def cancel_after_first(done: int, total: int | None) -> None:
        cancel.set()

    with pytest.raises(PacsCancelled, match="cancelled"):
        get_series(node, *uids, tmp_path / "cache", progress=cancel_after_first, cancel=cancel)
    assert sorted(p.name for p in first.folder.iterdir()) == sorted(p.name for p in first.files)
    assert _leftovers(tmp_path / "cache") == [first.folder]


def test_sending_a_file_that_is_not_dicom_sends_nothing(orthanc, tmp_path) -> None:
    text = tmp_path / "notes.dcm"
    text.write_text("not DICOM")
    with pytest.raises(InputError, match="notes.dcm"):
        send_files(orthanc.node(), [text])


def _leftovers(cache) -> list:
    """Series folders and anything hidden (partial transfers) in the cache."""
    if not cache.exists():
        return []
    hidden = [path for path in cache.rglob(".*")]
    assert hidden == [], hidden
    return sorted(path for path in cache.glob("*/*") if path.is_dir())
