"""The confidence check's data: every labelled liver run of a folder analysed by a weights
folder, keeping each lesion's mean tumor probability and whether it hits a true tumor, and the
time of the analysis and of its scope stage. Cached per folder and weights file, so evaluating
again does not rerun the models."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from dsaviewer.core.binary_masks import label_components
from dsaviewer.errors import InputError
from dsaviewer.inference.backend import ModelBackend, load_backend
from dsaviewer.inference.batch import find_cases
from dsaviewer.inference.manifest import WeightsError, read_manifest
from dsaviewer.inference.pipeline import analyze
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.key_frame_labels import labelled_key_frame
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.video import load_video


@dataclass
class AnalysedRun:
    case_id: str
    analyse_ms: float  # the whole analysis
    scope_ms: float  # the scope stage alone
    lesions: list[tuple[float, bool]]  # (mean tumor probability, overlaps a true tumor)
    refused: str = ""  # the refusal, when the run was not analysed


def analysed_runs(liver: list[Path], weights: Path | None, cache_dir: Path) -> list[AnalysedRun]:
    """The labelled liver runs of ``liver`` analysed with the weights folder ``weights``
    (None: the bundled weights) on the CPU."""
    models = load_backend(weights, None, "cpu")
    checksum = read_manifest(models.weights_dir).segmentation.sha256[:12]
    runs = []
    for folder in liver:
        cache = Path(cache_dir) / f"{Path(folder).resolve().name}.{checksum}.lesions.jsonl"
        done = _read_cache(cache)
        with cache.open("a", encoding="utf-8") as stream:
            for case in find_cases([folder]):
                if case.case_id not in done:
                    done[case.case_id] = _analysed(case.case_id, case.path, models)
                    stream.write(json.dumps(asdict(done[case.case_id])) + "\n")
                    stream.flush()
                runs.append(done[case.case_id])
    return runs


def _analysed(case_id: str, path: Path, models: ModelBackend) -> AnalysedRun:
    case = open_case(path)
    video = load_video(case.video_path)
    key = labelled_key_frame(case, required=True)
    try:
        result = analyze(video, key_frame=key, weights=models, key_frame_source="labels")
    except WeightsError:
        raise  # the program's own files are broken: nothing to record about the run
    except InputError as error:
        return AnalysedRun(case_id, 0.0, 0.0, [], error.reason)
    truth = read_labelme(case.label_files[key]).masks["tumor"]
    _, labels = label_components(result.tumor_mask)
    lesions = []
    for lesion in result.lesions:
        row, column = lesion.contour[0]
        component = labels == labels[row, column]
        lesions.append((float(lesion.mean_probability), bool(truth[component].any())))
    return AnalysedRun(case_id, result.timings_ms.get("total", 0.0),
                       result.timings_ms.get("scope", 0.0), lesions)


def _read_cache(cache: Path) -> dict[str, AnalysedRun]:
    cache.parent.mkdir(parents=True, exist_ok=True)
    if not cache.is_file():
        return {}
    runs = {}
    for line in cache.read_text(encoding="utf-8").splitlines():
        if line.strip():
            values = json.loads(line)
            values["lesions"] = [tuple(item) for item in values["lesions"]]
            runs[values["case_id"]] = AnalysedRun(**values)
    return runs
