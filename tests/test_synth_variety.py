"""Each factor of the broad mix shows in the generated case's frames or ground truth, on tiny
cases (256 x 256). Cases that force one family value are compared with the same case
forced to a neutral value: everything else draws the same numbers."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from training.synth import generate_case
from training.synth.arteries import catheter_path
from training.synth.bowel import sample_bowel
from training.synth.case_writer import PERFUSED_LIVER_FLAG, write_case
from training.synth.distractors import blush_stamps
from training.synth.layers import liver_mask
from training.synth.liver import sample_liver
from training.synth.options import SynthOptions, broad_options
from training.synth.response import response_probability
from training.synth.sma_tree import grow_sma_tree, sma_catheter
from training.synth.territory import CantlieLine, sample_cantlie_line
from training.synth.tumors import SATELLITE_GAP, tumor_burden
from training.synth.variety import FAMILIES, sample_variety
from training.synth.variety_case import organ_kinds
from training.synth.vessel_walk import sample_flow
from training.synth.view import sample_view

NEUTRAL = {
    "territory": "proper_hepatic",
    "liver": "typical",
    "phenotype": "classic",
    "distractor": "none",
    "acquisition": "standard",
}


def case(index: int = 2, seed: int = 4, p_breath: float = 0.4, **family: str):
    options = broad_options(
        sizes=(((256, 256), 1.0),),
        formats=(("avi", 1.0),),
        families=tuple({**NEUTRAL, **family}.items()),
        p_breath=p_breath,
    )
    return generate_case(seed, index, options)


def key_labels(c):
    return c.labels[0]


def test_every_case_has_one_value_per_family_and_the_default_mix_none():
    rng = np.random.default_rng(0)
    for _ in range(50):
        variety = sample_variety(rng)
        assert all(value in FAMILIES[name] for name, value in variety.families().items())
    assert generate_case(0, 0, SynthOptions(sizes=(((256, 256), 1.0),))).truth.families == ()
    with pytest.raises(ValueError, match="unknown family values"):
        sample_variety(rng, {"territory": "femoral"})
    with pytest.raises(ValueError, match="broad mix"):
        SynthOptions(families=(("territory", "celiac"),))


def test_selective_territories_label_only_the_perfused_liver():
    whole = key_labels(case(territory="proper_hepatic")).liver
    right = key_labels(case(territory="right_hepatic")).liver
    left = key_labels(case(territory="left_hepatic")).liver
    segment = key_labels(case(territory="segmental")).liver
    sma = key_labels(case(territory="replaced_right_sma")).liver
    assert right.sum() < 0.9 * whole.sum() and left.sum() < 0.9 * whole.sum()
    assert sma.sum() < 0.9 * whole.sum()
    assert segment.sum() < 0.6 * whole.sum()
    # Right and left lie on the patient's right (image left) and left of Cantlie's line.
    columns = np.arange(whole.shape[1])
    for right_liver in (right, sma):
        assert (right_liver.sum(0) * columns).sum() / right_liver.sum() < (
            (left.sum(0) * columns).sum() / left.sum()
        )
    for part in (right, left, segment, sma):  # within the liver (the key frames' poses may differ)
        assert (part & ~whole).sum() < 0.03 * part.sum()


def test_the_replaced_right_hepatic_artery_is_an_sma_branch_supplying_the_right_liver():
    rng = np.random.default_rng(5)
    liver = sample_liver(rng)
    celiac = catheter_path(rng, liver)
    flow = sample_flow(rng)
    bowel = sample_bowel(rng, liver, present=True, on_liver_edge=False)
    line = sample_cantlie_line(rng, liver)
    catheter = sma_catheter(rng, celiac)
    tree = grow_sma_tree(rng, liver, catheter, flow, bowel, line)
    # The catheter climbs the same aorta and hooks into the SMA below the celiac trunk.
    tip = catheter.points[-1]
    assert np.array_equal(catheter.points[0], celiac.points[0])
    assert tip[1] > celiac.points[:, 1].min() + 60 and tip[0] > liver.hilum[0] + 100
    (trunk,) = [vessel for vessel in tree if vessel.kind == "sma"]
    assert trunk.points[-1][1] > tip[1] + 250  # down the abdomen
    replaced, *branches = [vessel for vessel in tree if vessel.kind == "hepatic"]
    assert replaced is tree[0]  # the artery to the hilum first, as in the hepatic tree
    start = replaced.points[0]
    assert np.hypot(*(trunk.points - start).T).min() < 1.0  # it leaves the SMA
    assert start[1] > liver.hilum[1] + 80 and start[0] > liver.hilum[0] + 60  # below, medial
    assert np.hypot(*(replaced.points[-1] - liver.hilum)) < 10.0  # and enters the hilum
    points = np.concatenate([vessel.points for vessel in branches])
    margin = CantlieLine(liver.hilum + np.array([15.0, 0.0]), line.tilt)
    assert margin.right_of(points).mean() > 0.97  # the right liver only
    enteric = [vessel for vessel in tree if vessel.kind == "enteric"]
    assert len(enteric) >= 4  # to the bowel, jejunal, ileocolic
    assert np.hypot(*(enteric[0].points[-1] - bowel[0].center)) < 15.0


def test_tumors_of_a_selective_run_lie_in_its_territory_and_the_sma_run_has_bowel():
    c = case(territory="segmental", phenotype="multifocal")
    labels = key_labels(c)
    assert labels.tumor.any() and not (labels.tumor & ~labels.liver).any()
    assert case(territory="replaced_right_sma").truth.n_gi >= 1
    assert case(territory="proper_hepatic").truth.n_gi == 0
    celiac = sample_variety(np.random.default_rng(0), {"territory": "celiac"})
    assert "splenic" in organ_kinds(celiac)


def test_a_territory_the_field_misses_is_drawn_again_so_the_case_keeps_a_liver_label():
    # Case 14 of seed 12: the left lobe of this liver partly outside the field lay wholly
    # outside it at the first draw (no liver label: training's reader skipped the case).
    c = case(14, 12, territory="left_hepatic", liver="partly_outside", phenotype="none")
    assert all(labels.liver.sum() > 0.02 * labels.liver.size for labels in c.labels)


@pytest.mark.parametrize("kind", ["small", "displaced", "partly_outside", "oblique", "magnified"])
def test_liver_position_size_and_projection_change_the_liver_label(kind):
    typical = key_labels(case(liver="typical")).liver
    changed = case(liver=kind)
    liver = key_labels(changed).liver
    assert (liver ^ typical).sum() > 0.2 * typical.sum()
    if kind == "small":
        assert liver.sum() < 0.8 * typical.sum()
    if kind == "partly_outside":
        assert liver.sum() < typical.sum()
    if kind == "magnified":
        assert changed.truth.zoom >= 1.8


def test_tumor_phenotypes():
    assert not key_labels(case(phenotype="none")).tumor.any()
    assert case(phenotype="none").truth.n_tumors == 0
    assert case(phenotype="multifocal").truth.n_tumors >= 6
    small = case(phenotype="solitary_small")
    assert small.truth.n_tumors == 1
    assert all(d <= 30.0 * 256 / 1021 + 1e-6 for d in small.truth.tumor_diameters_px)
    large = case(phenotype="large_necrotic")
    assert large.patient.burden.largest_diameter_cm >= 7.0
    assert max(large.truth.tumor_diameters_px) >= 175.0 * 256 / 1021 - 1e-6  # 7 cm and more
    for faint in ("infiltrative", "hypovascular"):
        c = case(phenotype=faint)
        assert c.truth.n_tumors >= 1 and c.truth.n_rich == 0
    shunt = case(phenotype="ap_shunt")
    assert shunt.truth.n_rich == shunt.truth.n_tumors_visible >= 1


def test_a_tumor_the_run_does_not_show_leaves_the_visible_tumor_probability():
    # An infiltrative mass too large for the left lobe lies outside the perfused territory:
    # the visible-tumor probability is that of the same chart without tumors.
    hidden = case(index=0, territory="left_hepatic", phenotype="infiltrative")
    assert hidden.truth.n_tumors == 1 and hidden.truth.n_tumors_visible == 0
    assert not key_labels(hidden).tumor.any()
    without_tumors = response_probability(tumor_burden([]), hidden.patient.clinical)
    assert hidden.truth.visible_response_probability == pytest.approx(without_tumors)
    assert hidden.truth.visible_response_probability > hidden.patient.response_probability
    shown = case(index=0, phenotype="infiltrative")
    assert shown.truth.n_tumors_visible == shown.truth.n_tumors == 1
    assert shown.truth.visible_response_probability == shown.patient.response_probability


def test_satellites_of_a_large_mass_lie_within_2_cm_of_its_edge():
    large = case(phenotype="large_necrotic")
    satellites = [spec for spec in large.patient.tumors if spec.satellite]
    assert satellites and large.truth.n_tumors_visible == 1 + len(satellites)
    tumor = key_labels(large).tumor.astype(np.uint8)
    count, parts, stats, _ = cv2.connectedComponentsWithStats(tumor)
    assert count - 1 >= 2  # nodules of their own beside the mass
    mass = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    from_mass = cv2.distanceTransform((parts != mass).astype(np.uint8), cv2.DIST_L2, 5)
    two_cm_px = SATELLITE_GAP * 256 / 1021
    for part in set(range(1, count)) - {mass}:
        assert from_mass[parts == part].min() <= two_cm_px + 1.5


def test_an_arterioportal_shunt_fills_portal_branches_inside_the_liver_early():
    rng = np.random.default_rng(3)
    assert "portal" in organ_kinds(sample_variety(rng, {"phenotype": "ap_shunt"}))
    liver = sample_liver(rng)
    view = sample_view(rng, (256, 256), False, liver.centroid)
    ((stamp, timing),) = blush_stamps(rng, ["portal"], liver, view, fill_time=1.0)
    canvas = np.zeros((256, 256), np.float32)
    canvas[stamp.slices] = stamp.layers[0]
    inside = liver_mask(liver, view, (0.0, 0.0))
    assert canvas[inside].sum() > 0.8 * canvas.sum() > 0
    assert timing.onset < 1.5  # with the arteries, not seconds later as the portal phase


@pytest.mark.parametrize("kind", ["splenic", "pancreatic_gda", "renal", "gallbladder", "phrenic"])
def test_a_blush_distractor_shows_in_the_frames_but_not_in_the_labels(kind):
    plain, blush = case(distractor="none"), case(distractor=kind)
    assert np.array_equal(key_labels(plain).tumor, key_labels(blush).tumor)
    assert np.array_equal(key_labels(plain).liver, key_labels(blush).liver)
    k = plain.key_frame
    assert blush.key_frame == k
    difference = np.abs(blush.frames[k].astype(int) - plain.frames[k].astype(int))
    assert (difference > 8).sum() > 30


@pytest.mark.parametrize("kind", ["lipiodol_coils", "wires"])
def test_dense_objects_subtract_away_until_the_patient_breathes(kind):
    plain, dense = case(distractor="none", p_breath=1.0), case(distractor=kind, p_breath=1.0)
    assert np.array_equal(key_labels(plain).tumor, key_labels(dense).tumor)
    moving = list(dense.truth.moving_frames)
    assert moving and moving == list(plain.truth.moving_frames)
    still = np.abs(dense.frames[0].astype(int) - plain.frames[0].astype(int))
    moved = np.abs(dense.frames[moving].astype(int) - plain.frames[moving].astype(int))
    assert still.max() <= 2  # in the mask's pose the object cancels
    assert (moved > 20).sum() > 20  # misregistration once the patient moves


def test_bone_residue_misregisters_more_than_plain_bones():
    plain = case(distractor="none", p_breath=1.0)
    bones = case(distractor="bone_residue", p_breath=1.0)
    moving = list(bones.truth.moving_frames)
    assert moving
    edges = [np.abs(cv2.Laplacian(c.frames[moving].astype(np.float32), cv2.CV_32F)).mean()
             for c in (plain, bones)]
    assert edges[1] > edges[0]


def test_frame_rate_run_length_and_dose():
    fast, slow = case(acquisition="fast"), case(acquisition="slow")
    assert 30 <= len(fast.frames) <= 40 and 4.0 <= fast.fps <= 7.5
    assert 8 <= len(slow.frames) <= 16 and 1.0 <= slow.fps <= 2.0

    def grain(c) -> float:  # median high-pass magnitude in the centre of the first frame
        frame = c.frames[0].astype(np.float32)
        high_pass = frame - cv2.GaussianBlur(frame, (0, 0), 3.0)
        return float(np.median(np.abs(high_pass[64:192, 64:192])))

    low, standard, high = (
        grain(case(acquisition=kind)) for kind in ("low_dose", "standard", "high_dose")
    )
    assert low > 1.5 * standard and standard > 1.3 * high


def test_broad_labelme_files_say_the_liver_label_is_the_perfused_liver(tmp_path):
    folder = write_case(case(territory="left_hepatic"), tmp_path)
    documents = [json.loads(p.read_text()) for p in sorted((folder / "labels").glob("*.json"))]
    assert documents and all(d["flags"][PERFUSED_LIVER_FLAG] is True for d in documents)
