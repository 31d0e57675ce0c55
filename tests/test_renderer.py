"""Renderer stage: real FluidSynth, real soundfont, PCM measured."""

import note_seq
import numpy as np
import pytest

from radio.music.segment import Segment
from radio.offline.audiostats import longest_silence, window_dbfs
from radio.sound.renderer import SAMPLE_RATE, Renderer
from radio.sound.soundfonts import find_soundfont


@pytest.fixture()
def renderer():
    r = Renderer()
    yield r
    r.close()


def _mixed(parts: dict) -> np.ndarray:
    return sum(parts.values())


def _seq(*notes):
    ns = note_seq.NoteSequence()
    for pitch, start, end, drum, instrument in notes:
        ns.notes.add(pitch=pitch, start_time=start, end_time=end, velocity=100, is_drum=drum,
                     instrument=instrument)
    return ns


def test_segment_length_and_level(renderer, seed_segments):
    """44.1 kHz stereo per part, exactly the segment's duration, audible and not clipped."""
    seg = Segment(id=0, sequence=seed_segments[0].sequence, qpm=120.0, bars=16)
    parts = renderer.render(seg)
    assert set(parts) == {"lead", "bass", "drums"}
    for pcm in parts.values():
        assert pcm.shape == (2, round(32.0 * SAMPLE_RATE)) and pcm.dtype == np.float32
        assert np.abs(pcm).max() > 0.01
    pcm = _mixed(parts)
    peak = np.abs(pcm).max()
    assert 0.05 < peak < 0.999
    assert longest_silence(pcm) < 2.0


def test_drums_on_channel_10_sound_like_drums(renderer):
    """A kick on the percussion channel is a short burst, not a sustained tone."""
    seg = Segment(id=0, sequence=_seq((36, 0.0, 1.9, True, 9)), qpm=120.0, bars=1)
    parts = renderer.render(seg)
    assert np.abs(parts["lead"]).max() < 1e-3 and np.abs(parts["bass"]).max() < 1e-3   # apart (dither only)
    levels = window_dbfs(parts["drums"])
    assert levels[:4].max() > -40 and levels[-4:].max() < levels[:4].max() - 20


def test_note_over_the_seam_keeps_ringing(renderer):
    """A bass note held past the segment's end is still sounding at the start of the next."""
    held = Segment(id=0, sequence=_seq((45, 1.5, 3.0, False, 1)), qpm=120.0, bars=1)  # 2 s bar
    empty = Segment(id=1, sequence=_seq(), qpm=120.0, bars=1)
    renderer.render(held)
    nxt = window_dbfs(renderer.render(empty)["bass"])
    assert nxt[:10].min() > -45          # first 0.5 s: the note rings on
    assert nxt[-4:].max() < nxt[:4].min() - 15  # released at 1 s into the next segment


def test_missing_soundfont_is_a_clear_error(tmp_path):
    from radio.config import ConfigError
    with pytest.raises(ConfigError, match="does not exist"):
        find_soundfont(tmp_path / "none.sf2")


def test_a_preset_changes_the_instruments(renderer):
    """The same lead note through two presets' programs sounds different; the kit too."""
    from radio.sound.presets import resolve
    seg = Segment(id=0, sequence=_seq((64, 0.0, 1.5, False, 0), (38, 0.0, 0.5, True, 9)), qpm=120.0, bars=1)
    renderer.set_sound(resolve("bare"))
    saw = renderer.render(seg)
    renderer.set_sound(resolve("jazz"))        # vibraphone, brush kit
    vibes = renderer.render(seg)
    spectrum = lambda x: np.abs(np.fft.rfft(x.mean(axis=0)))[:20000]
    a, b = spectrum(saw["lead"]), spectrum(vibes["lead"])
    assert np.corrcoef(a, b)[0, 1] < 0.8
    assert not np.allclose(saw["drums"], vibes["drums"], atol=1e-3)


def test_a_missing_soundfont_falls_back_to_general_midi(monkeypatch):
    """A preset naming a soundfont that is not installed plays on the GM fallback, and says so."""
    from radio.sound import presets, soundfonts
    monkeypatch.setitem(soundfonts.SOUNDFONTS, "musescore", ("musescore-general-soundfont", ()))
    r = Renderer(None, presets.resolve("jazz"))
    try:
        parts = r.render(Segment(id=0, sequence=_seq((64, 0.0, 1.0, False, 0)), qpm=120.0, bars=1))
        assert np.abs(parts["lead"]).max() > 0.01
        assert "musescore" in r.missing
    finally:
        r.close()
    monkeypatch.setitem(soundfonts.SOUNDFONTS, "avl-red-zeppelin", ("avldrums.lv2-soundfont", ()))
    r = Renderer(None, presets.resolve("rock"))      # an acoustic kit: the GM standard kit stands in
    try:
        parts = r.render(Segment(id=0, sequence=_seq((38, 0.0, 0.5, True, 9)), qpm=120.0, bars=1))
        assert np.abs(parts["drums"]).max() > 0.01 and "avl-red-zeppelin" in r.missing
    finally:
        r.close()


def test_blocks_are_the_whole_render_and_mix(seed_segments):
    """Rendered and mixed a second at a time (as the pipeline does, to bound memory), two
    segments and a note held over their seam sound as rendered and mixed whole."""
    from radio.sound.mixer import Audio, Mixer
    from radio.sound.presets import resolve
    first = Segment(id=0, sequence=seed_segments[0].sequence, qpm=120.0, bars=16)
    held = note_seq.NoteSequence()
    held.CopyFrom(seed_segments[1].sequence)
    held.notes.add(pitch=45, start_time=30.0, end_time=33.5, velocity=100, instrument=1)
    segments = [Segment(id=1, sequence=held, qpm=120.0, bars=16), first]
    sound = resolve("default")
    whole, blocked = (Renderer(None, sound), Mixer(sound, SAMPLE_RATE)), (Renderer(None, sound), Mixer(sound, SAMPLE_RATE))
    try:
        for seg in segments:
            a = whole[1].process({p: Audio(x, SAMPLE_RATE) for p, x in whole[0].render(seg).items()}).samples
            blocks = ({p: Audio(x, SAMPLE_RATE) for p, x in b.items()} for b in blocked[0].blocks(seg, 10_000))
            b = blocked[1].process_blocks(blocks, round(seg.duration * SAMPLE_RATE)).samples
            assert a.shape == b.shape == (2, round(32.0 * SAMPLE_RATE))
            assert np.abs(a).max() > 0.05 and np.abs(a - b).max() < 1e-5
    finally:
        whole[0].close()
        blocked[0].close()
