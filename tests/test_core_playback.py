import pytest

from dsaviewer.core.playback import PlaybackState


def test_step_wraps_when_looping_and_playing():
    state = PlaybackState(n_frames=3, fps=10, loop=True, playing=True)
    assert [state.step() for _ in range(4)] == [1, 2, 0, 1]
    assert state.playing


def test_step_stops_at_last_frame_without_loop():
    state = PlaybackState(n_frames=3, fps=10, loop=False, playing=True)
    assert [state.step() for _ in range(3)] == [1, 2, 2]
    assert not state.playing


def test_manual_steps_clamp_at_both_ends_even_when_looping():
    state = PlaybackState(n_frames=5, fps=10, loop=True)
    assert state.step(-1) == 0
    assert state.step(100) == 4
    assert state.seek(-3) == 0


def test_achieved_rate_reports_what_was_shown():
    state = PlaybackState(n_frames=100, fps=30)
    assert state.achieved_fps() is None
    for i in range(11):
        state.record_shown(i * 0.1)  # ten intervals of 100 ms: the machine kept 10 fps
    assert state.achieved_fps() == pytest.approx(10.0)
    assert state.interval_ms == 33


@pytest.mark.parametrize("kwargs", [{"n_frames": 0}, {"n_frames": 3, "fps": 0}])
def test_invalid_state_is_refused(kwargs):
    with pytest.raises(ValueError):
        PlaybackState(**kwargs)
