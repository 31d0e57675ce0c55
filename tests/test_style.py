"""Playing style (radio/model/style.py, radio/generator/styles.py): a set's own moves,
counted on real tokens, carried into decoding with the shipped model, and through a
station pipeline on a band set written here as real MIDI."""

from __future__ import annotations

import io
import json

import note_seq
import numpy as np
import pytest

from radio.model.style import LIMIT, MOVES, WIDTH, PartStyle, Style, counts, fit

HOLD, OFF = 0, 1


def pitch(p: int) -> int:
    return p - 21 + 2          # the trio melody token of MIDI pitch p


def test_counts_a_hand_made_line():
    # steps: C4 struck, held, C4 struck again, off, G4 (7 up), held, C6 (24 above the C4
    # in the window: wide), off
    line = [pitch(60), HOLD, pitch(60), OFF, pitch(67), HOLD, pitch(84), OFF]
    got = dict(zip(MOVES, counts(np.array([line])).tolist()))
    assert got["even"] == [1, 2]     # a note sounds at even steps 2 and 6; step 2 strikes it again
    assert got["odd"] == [0, 4]      # at odd steps 1, 3, 5, 7 it holds or stops
    assert got["wide"] == [1, 4]     # of the 4 notes struck only C6 stretches past an octave
    assert got["start"] == [2, 2]    # silent at steps 0 and 4, and a note starts at both
    assert got["stop"] == [2, 6]     # of the 6 steps a note sounds, 2 end it
    # notes last 2, 1, 2, 1 steps: at step 5 G4 is as long as the C4 before it (1) and holds;
    # at steps 3 and 7 a note shorter than the one before (2) ends
    assert got["match"] == [0, 1] and got["early"] == [2, 2]


def test_fit_moves_the_odds_toward_the_seeds_within_the_limit():
    seeds = np.zeros((2, len(MOVES), 2), np.int64)
    played = np.zeros_like(seeds)
    seeds[:, :, 1] = played[:, :, 1] = 1000
    seeds[0, 0, 0], played[0, 0, 0] = 20, 200      # lead strikes again far less in the seeds
    seeds[1, 0, 0], played[1, 0, 0] = 500, 100     # bass far more
    seeds[0, 2, 0], played[0, 2, 0] = 0, 900       # beyond the limit
    style = fit(seeds, played)
    assert style.lead.even == pytest.approx(np.log(20.5 / 980.5) - np.log(200.5 / 800.5), abs=1e-6)
    assert style.bass.even > 1.5 and style.lead.even < -2
    assert style.lead.wide == -LIMIT
    assert style.lead.odd == style.bass.stop == 0
    assert Style.from_dict(style.to_dict()).lead.even == pytest.approx(style.lead.even, abs=1e-3)
    assert Style.blend([(style, 1.0), (Style(), 3.0)]).bass.even == pytest.approx(style.bass.even / 4)
    assert style.scaled(0).neutral and Style().part(0) is None and style.part(2) is None


@pytest.fixture(scope="module")
def numpy_model():
    from radio.model import load_model
    return load_model(None, engine="numpy", seed=0)


def test_a_styled_part_decodes_bar_after_bar_to_the_same_tokens(numpy_model):
    """With offsets too small to change a draw, the bar-after-bar path gives the tokens the
    side-by-side decoder gives (same uniforms, same model)."""
    z = np.random.default_rng(1).standard_normal((3, numpy_model.z_size)).astype(np.float32)
    tiny = Style(lead=PartStyle(even=1e-9), bass=PartStyle(wide=-1e-9))
    for temperature in (0.0, 1.0):
        plain = numpy_model.decode_ids(z, temperature, rng=np.random.default_rng(7))
        styled = numpy_model.decode_ids(z, temperature, style=tiny, rng=np.random.default_rng(7))
        assert (plain == styled).all()


def test_offsets_change_what_the_model_plays(numpy_model):
    z = np.random.default_rng(2).standard_normal((8, numpy_model.z_size)).astype(np.float32)
    plain = numpy_model.decode_ids(z, 1.0, rng=np.random.default_rng(3))
    style = Style(lead=PartStyle(even=-LIMIT, odd=-LIMIT, wide=-LIMIT), bass=PartStyle(even=LIMIT, stop=-LIMIT))
    styled = numpy_model.decode_ids(z, 1.0, style=style, rng=np.random.default_rng(3))
    rate = lambda ids, part, move: (lambda c: c[0] / max(c[1], 1))(counts(ids[part])[MOVES.index(move)])
    assert rate(plain, 0, "even") > 0.05 and rate(styled, 0, "even") < rate(plain, 0, "even") / 4
    assert rate(styled, 0, "wide") < rate(plain, 0, "wide") / 2
    assert rate(styled, 1, "even") > 2 * rate(plain, 1, "even")
    assert (styled[2] == plain[2]).all()                       # drums play as the model does
    # the lead's notes stay within an octave of the last four bars' more often
    spans = []
    for ids in (plain, styled):
        lead = ids[0]
        spans.append(np.median([np.ptp(p[p >= 2]) for row in lead for p in np.split(row, 4) if (p >= 2).any()]))
    assert spans[1] < spans[0] and spans[1] <= WIDTH


def test_length_offsets_make_notes_as_long_as_the_ones_before(numpy_model):
    z = np.random.default_rng(4).standard_normal((8, numpy_model.z_size)).astype(np.float32)
    plain = numpy_model.decode_ids(z, 1.0, rng=np.random.default_rng(5))
    style = Style(lead=PartStyle(match=LIMIT, early=-LIMIT))
    styled = numpy_model.decode_ids(z, 1.0, style=style, rng=np.random.default_rng(5))
    rate = lambda ids, move: (lambda c: c[0] / max(c[1], 1))(counts(ids[0])[MOVES.index(move)])
    assert rate(styled, "match") > 1.1 * rate(plain, "match") and rate(styled, "match") > 0.8
    assert rate(styled, "early") < rate(plain, "early") / 2
    assert (styled[1:] == plain[1:]).all()                     # bass and drums as the model plays them


def _band_midi(root: int, seed: int) -> bytes:
    """32 bars of a band: a lead holding half notes by steps in a narrow range, a bass
    driving eighths on one root a bar, kick, snare and hats."""
    rng = np.random.default_rng(seed)
    ns = note_seq.NoteSequence()
    ns.tempos.add(qpm=120)
    ns.time_signatures.add(numerator=4, denominator=4)
    bar, lead = 2.0, 64
    for b in range(32):
        t = b * bar
        for half in range(2):
            lead = int(np.clip(lead + rng.choice([-2, -1, 1, 2]), 60, 69))
            ns.notes.add(pitch=lead, start_time=t + half, end_time=t + half + 0.95, velocity=90, instrument=0, program=80)
        bass = root + [0, 5, 7, 0][b % 4]
        for e in range(8):
            ns.notes.add(pitch=bass, start_time=t + e * 0.25, end_time=t + e * 0.25 + 0.22, velocity=90,
                         instrument=1, program=33)
        for e in range(8):
            drum = 36 if e in (0, 4) else 38 if e in (2, 6) else 42
            ns.notes.add(pitch=drum, start_time=t + e * 0.25, end_time=t + e * 0.25 + 0.1, velocity=90,
                         instrument=9, is_drum=True)
            if drum != 42:
                ns.notes.add(pitch=42, start_time=t + e * 0.25, end_time=t + e * 0.25 + 0.1, velocity=80,
                             instrument=9, is_drum=True)
    ns.total_time = 32 * bar
    buf = io.BytesIO()
    note_seq.midi_io.note_sequence_to_pretty_midi(ns).write(buf)
    return buf.getvalue()


def test_a_band_set_plays_closer_to_its_own_moves(tmp_path):
    from radio.config import Settings
    from radio.generator.pipeline import Pipeline
    from radio.generator.styles import segment_moves
    band = tmp_path / "seeds" / "band"
    band.mkdir(parents=True)
    for k, root in enumerate((40, 43)):
        (band / f"song{k}.mid").write_bytes(_band_midi(root, k))
    settings = Settings(data=str(tmp_path / "data"), seeds=str(tmp_path / "seeds"), seed=1,
                        mix={"sets": {"band": 1}, "form": "morph", "style": 1})
    p = Pipeline(settings)
    anchors = [a for a in p.anchors if a.set == "band"]
    assert anchors and all(a.moves is not None and a.moves.shape == (2, len(MOVES), 2) for a in anchors)
    seeds = np.sum([a.moves for a in anchors], axis=0)
    style = p.walk.style
    assert style is not None and style == p.styles.of_set("band", p.anchors, 1.0)
    # what the model plays from the set's encodings, with and without its style: nearer the
    # set's own moves with it (summed distance of log-odds over the moves of lead and bass)
    z = np.stack([a.z for a in anchors])
    odds = lambda c: np.log((c[..., 0] + 0.5) / (c[..., 1] - c[..., 0] + 0.5))
    far = {}
    for name, s in (("plain", None), ("styled", style)):
        played = segment_moves(p.model.decode_ids(z, 1.0, style=s, rng=np.random.default_rng(5)))
        far[name] = float(np.abs(odds(played) - odds(seeds)).sum())
    assert far["styled"] < 0.75 * far["plain"], far
    # the counts are kept with the encodings, and the fit beside them: a restart reads both
    assert "band" in (p._cache / "styles.json").read_text()
    again = Pipeline(settings)
    assert all((a.moves == b.moves).all() for a, b in zip(anchors, (a for a in again.anchors if a.set == "band")))
    assert again.walk.style == style
    # a damaged file is fitted again, not trusted
    kept = p._cache / "styles.json"
    key = next(iter(json.loads(kept.read_text())))
    for damage in ("[1, 2]", json.dumps({key: {"lead": {"even": "loud"}}}), "{not json"):
        kept.write_text(damage)
        fresh = Pipeline(settings)
        assert fresh.walk.style == style
        fresh.close()
    # style 0 plays the model's own manner; a style outside 0–1 is refused by name
    p.set_mix(p.mix.updated({"style": 0}, p.library.sets()))
    assert p.walk.style is None
    from radio.generator.mix import MixError
    with pytest.raises(MixError, match="style"):
        p.mix.updated({"style": 1.5}, p.library.sets())
    p.close()
    again.close()


def _counts_by_tracker(ids: np.ndarray) -> np.ndarray:
    """What `counts` must give: a Tracker stepped through the tokens, as decoding steps it."""
    from radio.model.style import Tracker
    track, out = Tracker(len(ids)), np.zeros((len(MOVES), 2), np.int64)
    for t in range(ids.shape[1]):
        tok = ids[:, t]
        struck = tok >= 2
        again = track.sounding & (tok == 2 + track.last)
        out[t % 2] += [again.sum(), track.sounding.sum()]
        wide = struck & track.wide(np.where(struck, tok - 2, 0)[:, None].astype(np.float32))[:, 0]
        out[2] += [wide.sum(), struck.sum()]
        out[3] += [(struck & ~track.sounding).sum(), (~track.sounding).sum()]
        out[4] += [(track.sounding & (tok == 1)).sum(), track.sounding.sum()]
        age, before = t - track.onset, track.before
        known = track.sounding & (before >= 1)
        for k, at in ((5, known & (age == before)), (6, known & (age < before))):
            out[k] += [(at & (tok != 0)).sum(), at.sum()]
        track.update(tok)
    return out


def test_counts_are_what_a_tracker_sees():
    rng = np.random.default_rng(0)
    for hold in (0.2, 0.6, 0.9):                       # busy, even and sparse lines, rests and all
        kinds = rng.choice([0, 1, 2], size=(6, 256), p=[hold, (1 - hold) / 3, 2 * (1 - hold) / 3])
        ids = np.where(kinds == 2, 2 + rng.integers(30, 60, (6, 256)), kinds)
        assert (counts(ids) == _counts_by_tracker(ids)).all()


def test_a_model_plays_in_its_cards_style_and_a_mix_adds_to_it(tmp_path, numpy_model):
    """A learned set's model carries the set's style in its card (`radio learn`): it
    decodes as the same weights told that style, and a mix's style adds to it."""
    from radio.config import DEFAULT_MODEL_DIR
    from radio.model import load_model
    from radio.model.card import ModelCard
    from radio.model.numpy_engine import EngineError
    own = Style(lead=PartStyle(wide=-2.0, match=1.0), bass=PartStyle(even=1.5, start=1.0))
    folder = tmp_path / "learned"
    folder.mkdir()
    for f in DEFAULT_MODEL_DIR.iterdir():
        (folder / f.name).symlink_to(f)
    (folder / "model.json").unlink()
    card = ModelCard.read(DEFAULT_MODEL_DIR)
    card.style = own.to_dict()
    card.write(folder)
    learned = load_model(folder, engine="numpy", seed=0)
    z = np.random.default_rng(3).standard_normal((2, numpy_model.z_size)).astype(np.float32)

    def ids(model, style=None):
        return model.decode_ids(z, 1.0, steps=64, style=style, rng=np.random.default_rng(5))
    assert np.array_equal(ids(learned), ids(numpy_model, own))
    assert not np.array_equal(ids(learned), ids(numpy_model))
    more = Style(bass=PartStyle(even=3.0, stop=-1.0))
    assert own.plus(more).bass.even == LIMIT and own.plus(more).bass.stop == -1.0
    assert np.array_equal(ids(learned, more), ids(numpy_model, own.plus(more)))
    # a mix's style moves from the model's own (at 0) to its sets' fitted on the bare weights (at 1)
    from radio.config import ASSETS
    from radio.generator.anchors import encode_file
    from radio.generator.styles import Styles
    anchors = [a for f in sorted((ASSETS / "seeds" / "rock").glob("*.mid")) for a in encode_file(learned, "rock", f)]
    fitted = Styles(numpy_model).of_set("rock", anchors, 1.0)
    assert Styles(learned).of_set("rock", anchors, 1.0) == fitted           # not fitted on top of its own
    assert Styles(learned).for_mix(anchors, {"rock": 1}, 1.0, 0.0) is None  # its own alone
    half = Styles(learned).for_mix(anchors, {"rock": 1}, 1.0, 0.5)
    for name in ("lead", "bass"):
        for m in MOVES:
            want = 0.5 * (getattr(getattr(fitted, name), m) - getattr(getattr(own, name), m))
            assert getattr(getattr(half, name), m) == pytest.approx(want, abs=1e-6), (name, m)
    card.style = {"lead": {"sideways": 1.0}}
    card.write(folder)
    with pytest.raises(EngineError, match="style"):
        load_model(folder, engine="numpy", seed=0)
