"""``dsaviewer pacs`` exit statuses and messages against a real Orthanc."""

from __future__ import annotations

import json

import numpy as np
import pytest
from orthanc_server import closed_port

from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_dicom_xa
from dsaviewer.pacs_cli import main


def args(orthanc, *rest: str, called: str = "ORTHANC") -> list[str]:
    command, *others = rest
    return [command, "--host", "127.0.0.1", "--port", str(orthanc.dicom_port),
            "--called-aet", called, *others]


def test_echo_succeeds_and_wrong_title_fails_naming_it(orthanc, capsys) -> None:
    assert main(args(orthanc, "echo")) == 0
    assert "answered C-ECHO" in capsys.readouterr().out
    assert main(args(orthanc, "echo", called="NOBODY")) == 1
    assert "refused the association" in capsys.readouterr().err


def test_closed_port_fails_with_a_clear_message(capsys) -> None:
    port = str(closed_port())
    assert main(["find", "--host", "127.0.0.1", "--port", port, "--called-aet", "X",
                 "--timeout", "5"]) == 1
    assert f"no DICOM service answered at 127.0.0.1:{port}" in capsys.readouterr().err


def test_send_then_find_json_lists_the_series(orthanc, tmp_path, capsys) -> None:
    frames = np.zeros((5, 32, 32), np.uint8)
    run = write_dicom_xa(tmp_path / "run.dcm", frames, 5.0, patient={"PatientID": "CLI-1"})
    assert main(args(orthanc, "send", str(run))) == 0
    assert "stored 1 file(s)" in capsys.readouterr().out
    assert main(args(orthanc, "find", "--patient-id", "CLI-1", "--modality", "xa",
                     "--json")) == 0
    [series] = json.loads(capsys.readouterr().out)
    assert series["NumberOfFrames"] == 5
    assert set(series) >= {"StudyInstanceUID", "SeriesInstanceUID", "Modality", "NumberOfFrames"}


def test_get_unknown_series_and_send_bad_file_fail(orthanc, tmp_path, capsys) -> None:
    assert main(args(orthanc, "get", "--series", "1.2.3.4.5", "--out", str(tmp_path))) == 1
    assert "holds no series 1.2.3.4.5" in capsys.readouterr().err
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"nothing")
    assert main(args(orthanc, "send", str(bad))) == 2
    assert "bad.dcm" in capsys.readouterr().err


def test_bad_date_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["find", "--host", "h", "--port", "1", "--called-aet", "A", "--date-from", "May"])
    assert exit_info.value.code == 2


def test_dicomweb_send_find_get(orthanc, tmp_path, capsys) -> None:
    web = ["--dicomweb", orthanc.web_node().url]
    frames = np.arange(4 * 24 * 24, dtype=np.uint16).reshape(4, 24, 24)
    run = write_dicom_xa(tmp_path / "run.dcm", frames, 5.0, patient={"PatientID": "CLI-WEB"})
    assert main(["echo", *web]) == 0
    assert main(["send", *web, str(run)]) == 0
    capsys.readouterr()
    assert main(["find", *web, "--patient-id", "CLI-WEB", "--json"]) == 0
    [series] = json.loads(capsys.readouterr().out)
    assert series["NumberOfFrames"] == 4
    assert main(["get", *web, "--series", series["SeriesInstanceUID"], "--out",
                 str(tmp_path / "cache")]) == 2
    assert "--study" in capsys.readouterr().err
    assert main(["get", *web, "--series", series["SeriesInstanceUID"], "--study",
                 series["StudyInstanceUID"], "--out", str(tmp_path / "cache")]) == 0
    folder = capsys.readouterr().out.strip()
    assert load_video(folder).frames.shape == (4, 24, 24)


def test_a_node_is_needed() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["echo", "--host", "h"])
    assert exit_info.value.code == 2
