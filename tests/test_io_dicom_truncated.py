"""A DICOM file cut short (an interrupted copy, a partial download) is named as truncated or
damaged, never as "not an image"."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsaviewer.errors import InputError
from dsaviewer.io.video import load_video


# pydicom warns about the unfinished sequence it meets at the end of the bytes.
@pytest.mark.filterwarnings("ignore:End of file reached:UserWarning")
@pytest.mark.parametrize("kept", [0.02, 0.3, 0.9, 0.999])
def test_a_real_xa_file_cut_short_is_reported_as_truncated(shared_dicom_dir, tmp_path, kept):
    data = (shared_dicom_dir / "XA-MONO2-8-12x-catheter.dcm").read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: int(len(data) * kept)])
    with pytest.raises(InputError, match="damaged or truncated") as caught:
        load_video(cut)
    assert caught.value.source == str(cut)
    assert "not an image" not in str(caught.value)


def test_the_whole_file_still_loads(shared_dicom_dir: Path) -> None:
    assert load_video(shared_dicom_dir / "XA-MONO2-8-12x-catheter.dcm").n_frames == 12
