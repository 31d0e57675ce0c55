"""Sound stage: presets, channel strips, room and master on real FluidSynth audio, measured
as a listener's meter would (BS.1770 loudness, true peak, stereo image, clicks at seams)."""

import numpy as np
import pytest

from radio.config import ASSETS
from radio.generator.mix import MixError, StyleMix
from radio.music.segment import Segment
from radio.offline import audiostats as au
from radio.sound import loudness
from radio.sound.master import Master, master_whole, settled_gain
from radio.sound.mixer import Audio, Mixer, PluginError, load_plugins
from radio.sound.presets import PRESETS, SoundError, SoundPreset, check_mix_sound, resolve
from radio.sound.renderer import SAMPLE_RATE, Renderer
from radio.station.fallback import LoopFill

CHUNK = int(0.25 * SAMPLE_RATE)     # the station's pacer chunk
NEAR = int(0.005 * SAMPLE_RATE)     # "within 5 ms of a seam"
DELAY = int(round(Master.LOOKAHEAD_S * SAMPLE_RATE))   # the master's output lags its input


@pytest.fixture(scope="module")
def style_segments(converter):
    """The shipped seed songs of three styles, as 16-bar segments (real notes)."""
    from radio.music import seeds
    out = {}
    for style in ("jazz", "rock", "funk"):
        found, _ = seeds.import_folder(ASSETS / "seeds" / style, converter)
        out[style] = [Segment(id=i, sequence=s.sequence, qpm=120.0, bars=16) for i, s in enumerate(found[:2])]
        assert out[style]
    return out


def play(segments_and_presets, master: Master | None = None):
    """Renders segments through one renderer and mixer, switching presets where given,
    then through one master in pacer-sized chunks; the output and the seam positions."""
    renderer, mixer = Renderer(), None
    pcm, seams = [], []
    try:
        for segment, preset in segments_and_presets:
            sound = resolve(preset)
            renderer.set_sound(sound)
            mixer = mixer or Mixer(sound, SAMPLE_RATE)
            mixer.set_sound(sound)
            parts = {k: Audio(v, SAMPLE_RATE) for k, v in renderer.render(segment).items()}
            pcm.append(mixer.process(parts).samples)
            seams.append(sum(p.shape[1] for p in pcm))
    finally:
        renderer.close()
    mixed = np.concatenate(pcm, axis=1)
    master = master or Master(SAMPLE_RATE)
    out = np.concatenate([master.process(mixed[:, i:i + CHUNK]) for i in range(0, mixed.shape[1], CHUNK)], axis=1)
    return out, [seam + DELAY for seam in seams[:-1]]


def assert_no_click(pcm, seam, span):
    """No step within 5 ms of the seam larger than the largest inside the audio on either
    side (`span` samples each way, the seam's own 5 ms left out)."""
    at_seam = au.largest_step(pcm[:, seam - NEAR:seam + NEAR])
    inside = max(au.largest_step(pcm[:, max(0, seam - span):seam - NEAR]),
                 au.largest_step(pcm[:, seam + NEAR:seam + span]))
    assert at_seam <= inside, (seam, at_seam, inside)


@pytest.mark.parametrize("style", ["jazz", "rock", "funk"])
def test_a_style_lands_at_the_target_loudness_with_headroom_and_width(style, style_segments):
    """What `radio generate` writes: −16 ± 1 LUFS integrated, true peak ≤ −1 dBTP, and a
    stereo image (side/mid ≥ −20 dB); the bare GM sound of before is 10 dB quieter."""
    renderer = Renderer(None, resolve(style))
    mixer = Mixer(resolve(style), SAMPLE_RATE)
    try:
        mixed = np.concatenate([mixer.process({k: Audio(v, SAMPLE_RATE) for k, v in renderer.render(s).items()}).samples
                                for s in style_segments[style]], axis=1)
    finally:
        renderer.close()
    out = master_whole(mixed, SAMPLE_RATE, -16.0)
    assert out.shape == mixed.shape and out.dtype == np.float32
    assert abs(loudness.integrated_lufs(out) + 16.0) <= 1.0
    assert au.true_peak_dbtp(out) <= -1.0
    assert au.side_mid_db(out) >= -20.0
    assert loudness.integrated_lufs(mixed) < -22.0     # the master did the lifting


def test_the_target_is_configurable(style_segments):
    out, _ = play([(style_segments["jazz"][0], "jazz")], Master(SAMPLE_RATE, target_lufs=-20.0))
    assert abs(loudness.integrated_lufs(out[:, 10 * SAMPLE_RATE:]) + 20.0) <= 1.0


def test_seams_and_a_style_change_neither_click_nor_jump(style_segments):
    """Three segments through one renderer, mixer and master, the third in another style
    (a mix change at a boundary): no click at either seam, and the short-term loudness
    moves by at most 1.5 LU across the change."""
    jazz, rock = style_segments["jazz"], style_segments["rock"]
    out, seams = play([(jazz[0], "jazz"), (jazz[-1], "jazz"), (rock[0], "rock")])
    for seam in seams:
        assert_no_click(out, seam, span=4 * SAMPLE_RATE)
    st = loudness.short_term_lufs(out)                 # window i covers [i, i + 3) s
    change = seams[1] // SAMPLE_RATE
    before, after = np.median(st[change - 13:change - 3]), np.median(st[change:change + 10])
    assert abs(after - before) <= 1.5, (before, after)
    assert abs(loudness.integrated_lufs(out[:, 30 * SAMPLE_RATE:]) + 16.0) <= 1.0   # after the first 30 s


def test_a_cued_change_of_style_plays_at_the_target_from_its_first_seconds(style_segments):
    """A passage 5 dB quieter than the one before (a change of style to a quieter sound),
    cued with its settled gain as the station does at a change of style: its first 7 s sit
    within 1 LU of the target. The slow control alone leaves them well under it."""
    renderer, mixer = Renderer(None, resolve("jazz")), Mixer(resolve("jazz"), SAMPLE_RATE)
    try:
        loud, quiet = (mixer.process({k: Audio(v, SAMPLE_RATE) for k, v in renderer.render(s).items()}).samples
                       for s in (style_segments["jazz"][0], style_segments["jazz"][-1]))
    finally:
        renderer.close()
    loud = loud * np.float32(10 ** (5 / 20))
    first = {}
    for cued in (False, True):
        master = Master(SAMPLE_RATE)
        out = [master.process(loud[:, i:i + CHUNK]) for i in range(0, loud.shape[1], CHUNK)]
        if cued:
            master.cue(settled_gain(quiet, SAMPLE_RATE))
        out += [master.process(quiet[:, i:i + CHUNK]) for i in range(0, quiet.shape[1], CHUNK)]
        st = loudness.short_term_lufs(np.concatenate(out, axis=1))    # window i covers [i, i + 3) s
        change = loud.shape[1] // SAMPLE_RATE + 1
        assert abs(np.median(st[change - 12:change - 3]) + 16.0) <= 1.0     # the loud passage, levelled
        first[cued] = float(np.median(st[change:change + 5]))
    assert abs(first[True] + 16.0) <= 1.0 and first[False] < first[True] - 1.0, first


def test_seams_at_section_and_song_boundaries_do_not_click(model, seed_segments):
    """A song's sections back to back (an intro, sections that return, the ring-out), then
    the next song's intro: no click at any seam."""
    from test_songs import _song, _songwriter
    writer = _songwriter(model, seed_segments)
    segments = _song(writer) + [next(writer)]
    out, seams = play([(segment, "rock") for segment in segments])
    assert len(seams) == 5
    for seam in seams:
        assert_no_click(out, seam, span=2 * SAMPLE_RATE)


def test_the_loop_fill_passes_the_same_master_without_clicks(style_segments):
    """While the generator is late the last bars loop, then new music takes over on a bar
    line: the loop's wraps and the hand-over are click-free after the master too."""
    seg = style_segments["funk"][0]
    played, _ = play([(seg, "funk")])
    master = Master(SAMPLE_RATE)
    bar = int(round(4 * 60 / 120.0 * SAMPLE_RATE))
    fill = LoopFill(played, bar, bars=2)
    chunks = [master.process(played[:, -8 * bar:][:, i:i + CHUNK]) for i in range(0, 8 * bar, CHUNK)]
    start_fill = sum(c.shape[1] for c in chunks)
    while fill.samples < 5 * bar:
        chunks.append(master.process(fill.take(CHUNK)))
    assert fill.at_bar_line
    seam = sum(c.shape[1] for c in chunks)
    new, tail = played[:, :4 * bar].copy(), fill.tail()   # as playout hands over to new music
    new[:, :tail.shape[1]] += tail
    chunks += [master.process(new[:, i:i + CHUNK]) for i in range(0, new.shape[1], CHUNK)]
    out = np.concatenate(chunks, axis=1)
    for at in (start_fill, start_fill + 2 * bar, start_fill + 4 * bar, seam):
        assert_no_click(out, at + DELAY, span=bar)


def test_every_shipped_style_has_a_preset_of_its_own():
    """A preset per shipped seed set, and no two that differ only by name."""
    styles = sorted(p.name for p in (ASSETS / "seeds").iterdir() if p.is_dir())
    assert set(styles) <= set(PRESETS)
    seen = {}
    for name in [*styles, "bare", "default"]:
        d = resolve(name).to_dict()
        d.pop("name")
        key = repr(sorted(d.items()))
        assert key not in seen, f"{name} sounds like {seen.get(key)}"
        seen[key] = name
    assert resolve("bare").lead.program == 81 and resolve("bare").soundfont == "fluidr3"   # today's sound


def test_presets_are_validated_whole_with_the_field_named():
    bad = [({"preset": "polka"}, "sound.preset='polka'"),
           ({"lead": {"pan": 3}}, "sound.lead.pan=3"),
           ({"drums": {"kit": "cardboard"}}, "sound.drums.kit='cardboard'"),
           ({"lead": {"program": 12.5}}, "sound.lead.program: expected an integer"),
           ({"bass": {"level_db": float("nan")}}, "sound.bass.level_db: expected a number"),
           ({"lead": {"kit": "jazz"}}, "sound.lead: unknown field(s) ['kit']"),
           ({"soundfont": "/etc/passwd"}, "sound.soundfont='/etc/passwd'"),
           ({"reverb": 1}, "sound: unknown field(s) ['reverb']"),
           ([], "sound: expected an object")]
    for value, message in bad:
        with pytest.raises(SoundError) as e:
            check_mix_sound(value)
        assert message in str(e.value), (value, str(e.value))
    with pytest.raises(MixError, match=r"sound.lead.pan=3"):
        StyleMix(sets={"rock": 1.0}).updated({"sound": {"lead": {"pan": 3}}}, {"rock": []})
    ok = StyleMix(sets={"rock": 1.0}).updated({"sound": {"preset": "jazz", "lead": {"program": 66}}}, {"rock": []})
    assert ok.sound == {"preset": "jazz", "lead": {"program": 66}}


def test_a_strips_pan_and_level_reach_the_mix():
    """A part panned hard left plays on the left alone, and 6 dB more level doubles it
    (measured away from the compressor: a quiet tone, no reverb send)."""
    tone = np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE) / SAMPLE_RATE).astype(np.float32) * 0.01
    silent = np.zeros((2, SAMPLE_RATE), np.float32)

    def mixed(lead: dict) -> np.ndarray:
        sound = resolve("default", {"lead": {"reverb": 0.0, **lead}})
        parts = {"lead": np.stack([tone, tone]), "bass": silent, "drums": silent}
        out = Mixer(sound, SAMPLE_RATE).process({k: Audio(v, SAMPLE_RATE) for k, v in parts.items()}).samples
        return np.sqrt(np.mean(np.square(out[:, SAMPLE_RATE // 2:]), axis=1))     # after the filters settle

    left, right = mixed({"pan": -1.0})
    assert left > 0.005 and right < left * 1e-3
    centre = mixed({"pan": 0.0})
    assert abs(centre[0] - centre[1]) < centre[0] * 1e-3 and abs(left / centre[0] - np.sqrt(2)) < 0.05
    louder = mixed({"pan": 0.0, "level_db": resolve("default").lead.level_db + 6.0})
    assert abs(louder[0] / centre[0] - 10 ** (6 / 20)) < 0.05


def test_explicit_programs_override_the_preset():
    p = resolve("jazz", {"drums": {"kit": "power"}}, lead_program=30, bass_program=None)
    assert (p.lead.program, p.bass.program, p.drums.kit) == (30, resolve("jazz").bass.program, "power")
    assert isinstance(SoundPreset.from_dict("x", {}), SoundPreset)


def test_plugins_come_from_files_and_bad_ones_are_named(tmp_path):
    with pytest.raises(PluginError, match="plugins.lead: .* does not exist"):
        load_plugins({"lead": str(tmp_path / "missing.vst3")})
    junk = tmp_path / "junk.vst3"
    junk.write_bytes(b"not a plugin")
    with pytest.raises(PluginError, match="plugins.bass: .*junk.vst3 is not a VST3 plugin"):
        load_plugins({"bass": str(junk)})
    with pytest.raises(PluginError, match="plugins.vocals"):
        load_plugins({"vocals": str(junk)})
