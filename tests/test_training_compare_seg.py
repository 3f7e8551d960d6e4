"""compare-seg: two evaluate-seg reports of the same cases, paired per case, against values
computed by hand on constructed reports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from training.__main__ import main

# case -> (base tumor Dice, new tumor Dice, base liver Dice, new liver Dice), with families.
CASES = {
    "c0": ((0.50, 0.70, 0.90, 0.92), "segmental", "classic"),
    "c1": ((0.60, 0.60, 0.80, 0.86), "segmental", "hypovascular"),
    "c2": ((0.80, 0.90, 0.95, 0.95), "celiac", "classic"),
    "c3": ((0.90, 0.80, None, None), "celiac", "hypovascular"),  # no liver in view
}


def _report(folder: Path, data: Path, which: int, held_out: str | None = None) -> Path:
    cases = [{"case_id": case_id, "dice": values[which], "liver_dice": values[2 + which],
              "accuracy": 1.0} for case_id, (values, _, _) in CASES.items()]
    by_family = [{"group": held_out, "n_cases": 2, "held_out": True}] if held_out else []
    folder.mkdir()
    path = folder / "segmentation.json"
    path.write_text(json.dumps({"data": [str(data)], "postprocessed": {"cases": cases},
                                "by_family": by_family}))
    return path


@pytest.fixture()
def reports(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    data.mkdir()
    with open(data / "truth.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "territory", "phenotype"])
        for case_id, (_, territory, phenotype) in CASES.items():
            writer.writerow([case_id, territory, phenotype])
    return (_report(tmp_path / "base", data, 0),
            _report(tmp_path / "new", data, 1, held_out="territory=segmental"))


def test_paired_differences_per_group_match_hand_computed_values(reports, tmp_path) -> None:
    base, new = reports
    out = tmp_path / "out"
    assert main(["compare-seg", str(base), str(new), "--resamples", "200", "--out", str(out)]) == 0
    rows = {row["group"]: row for row in json.loads((out / "comparison.json").read_text())["rows"]}
    # Held out: the value the new run's report marked.
    assert json.loads((out / "comparison.json").read_text())["held_out"] == [
        "territory=segmental"]
    assert list(rows) == ["all", "held-out values", "other cases", "phenotype=classic",
                          "phenotype=hypovascular", "territory=celiac", "territory=segmental"]
    tumor = rows["all"]["dice"]
    assert tumor["n_cases"] == 4
    assert tumor["base"] == pytest.approx(0.70) and tumor["new"] == pytest.approx(0.75)
    assert tumor["difference"]["estimate"] == pytest.approx(0.05)
    assert tumor["difference"]["low"] <= 0.05 <= tumor["difference"]["high"]
    # Liver Dice over the cases that have it in both (c3 has none).
    assert rows["all"]["liver_dice"]["n_cases"] == 3
    assert rows["all"]["liver_dice"]["difference"]["estimate"] == pytest.approx(0.08 / 3)
    held = rows["held-out values"]
    assert held["held_out"] and held["n_cases"] == 2
    assert held["dice"]["difference"]["estimate"] == pytest.approx(0.10)
    assert held["liver_dice"]["difference"]["estimate"] == pytest.approx(0.04)
    assert rows["other cases"]["dice"]["difference"]["estimate"] == pytest.approx(0.0)
    assert rows["phenotype=hypovascular"]["dice"]["difference"]["estimate"] == pytest.approx(-0.05)
    assert rows["territory=segmental"]["held_out"]
    assert "territory=segmental" in (out / "comparison.md").read_text()


def test_held_out_values_given_on_the_command_line_replace_the_marked_ones(reports,
                                                                           tmp_path) -> None:
    base, new = reports
    out = tmp_path / "out"
    assert main(["compare-seg", str(base), str(new), "--held-out", "phenotype=classic",
                 "--resamples", "50", "--out", str(out)]) == 0
    rows = {row["group"]: row for row in json.loads((out / "comparison.json").read_text())["rows"]}
    assert rows["held-out values"]["dice"]["difference"]["estimate"] == pytest.approx(0.15)
    assert not rows["territory=segmental"]["held_out"]
    assert main(["compare-seg", str(base), str(new), "--held-out", "liver=small"]) == 2


def test_reports_of_different_cases_are_refused(reports, tmp_path, capsys) -> None:
    base, new = reports
    report = json.loads(new.read_text())
    report["postprocessed"]["cases"] = report["postprocessed"]["cases"][:3]
    new.write_text(json.dumps(report))
    assert main(["compare-seg", str(base), str(new)]) == 2
    assert "1 case(s) only in the base one, e.g. c3" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text("{")
    assert main(["compare-seg", str(base), str(tmp_path / "broken.json")]) == 2
    (tmp_path / "other.json").write_text(json.dumps({"data": []}))
    capsys.readouterr()
    assert main(["compare-seg", str(base), str(tmp_path / "other.json")]) == 2
    assert "other.json" in capsys.readouterr().err
