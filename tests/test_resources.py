from pathlib import Path

from dsaviewer.io.case_folder import open_case
from dsaviewer.resources import demo_dataset_dir, demo_working_copy


def test_demo_opens_from_a_writable_copy_and_the_bundle_stays_untouched(tmp_path: Path):
    before = sorted(p.relative_to(demo_dataset_dir()) for p in demo_dataset_dir().rglob("*"))
    case_dir = demo_working_copy(tmp_path)
    case = open_case(case_dir)
    assert case.label_files, "the demo case carries its Labelme key-frame labels"
    assert (case_dir.parent / "clinical.csv").is_file()
    (case_dir / "viewer").mkdir()  # what the viewer writes lands in the copy
    assert demo_working_copy(tmp_path) == case_dir  # a second call reuses the copy
    assert (case_dir / "viewer").is_dir()
    after = sorted(p.relative_to(demo_dataset_dir()) for p in demo_dataset_dir().rglob("*"))
    assert after == before
