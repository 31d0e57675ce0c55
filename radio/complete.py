"""Complete the band: keep the part(s) a musician played, let the trio model play the rest.

Method: latent search, after Engel, Hoffman & Roberts, "Latent Constraints: Learning to
Generate Conditionally from Unconditional Generative Models" (ICLR 2018, arXiv:1711.05772):
an unconditional VAE is made conditional by looking for latent points z whose decoding
satisfies a constraint while staying where the prior puts its mass. Here the constraint is
the kept part itself, and no critic is trained: MusicVAE's hierdec trio decoder writes its
three parts independently given z (a conductor turns z into one embedding per bar; each
part's core decoder reads only those), so log p(kept part | z) is a teacher-forced forward
pass of that part's decoder alone. Per 16-bar window we maximise

    log p(kept | z) + log N(z; 0, I)

over candidates: the window itself encoded with the missing parts empty, the previous
window's choice (continuity), encodings of seed segments and prior draws, then rounds of
Gaussian steps around the best few (a gradient-free search: forward passes only). The best
few z are decoded at the sampling temperature, several samples each, and the missing parts
of the sample that fits the kept part best are played (`fit`: consonance over the bass,
limits on plainness, drums under the bass's onsets): the paper's attribute constraints,
measured on the samples rather than learned as a critic on z.

Times: the input plays at any tempo map; the model works on sixteenths of 4/4. Kept notes
are read on that grid only to score and encode them. The output holds them as they were
(every field of every note copied, never re-quantized); the new parts are placed on the
input's beat grid through its tempo map, then humanized like the station's. Windows are
joined as the walk joins segments: a lead or bass note held into the same pitch is tied
over the seam.

A flat trio model decodes its three parts with one LSTM, step by step together, so one part
cannot be scored without the others: it gets CompleteError.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Protocol, Sequence

import numpy as np
import note_seq

from . import seeds
from .composer import tie_over
from .engine.trio import to_sequences
from .performer import Groove, humanize
from .segment import BASS, DRUMS, LEAD, MODEL_QPM, Segment, retime

ROLES = ("lead", "bass", "drums")          # the trio converter's order of parts
INSTRUMENT = {"lead": LEAD, "bass": BASS, "drums": DRUMS}
WINDOW_BARS = 16
STEPS_PER_BAR = 16
STEPS_PER_BEAT = 4
MELODY_NO_EVENT, MELODY_NOTE_OFF = 0, 1    # the melody one-hot's first two classes
MELODY_LOW, MELODY_HIGH = 21, 108          # the converter's pitch range (class = pitch - 19)
MAX_BARS = 128                             # what one request may ask for (API)
NEW_TRACK_NAME = "{role} (latent radio)"   # MIDI track name of each new part


class CompleteError(Exception):
    """An input or a model completion cannot use; the message says what to change."""


class Scorer(Protocol):
    """Teacher-forced log-likelihood of one part under the hierdec decoder."""

    def log_likelihood(self, z: np.ndarray, part: str, tokens: np.ndarray) -> np.ndarray:
        """z (N, z_size); part one of ROLES; tokens (T,) class ids, T ≤ 256 (a prefix of the
        16-bar window). Returns (N,) log-probabilities in nats."""
        ...


# ── The input ────────────────────────────────────────────────────────────────────────────

class TempoMap:
    """Seconds ↔ beats through a file's tempo changes (120 qpm when it has none)."""

    def __init__(self, tempos: Sequence):
        changes = sorted((float(t.time), float(t.qpm)) for t in tempos) or [(0.0, 120.0)]
        if changes[0][0] > 0:
            changes.insert(0, (0.0, changes[0][1]))
        self.times = [t for t, _ in changes]
        self.qpms = [q for _, q in changes]
        self.beat_marks = [0.0]
        for (t0, q0), (t1, _) in zip(changes, changes[1:]):
            self.beat_marks.append(self.beat_marks[-1] + (t1 - t0) * q0 / 60.0)

    def beats(self, seconds: float) -> float:
        i = max(0, np.searchsorted(self.times, seconds, side="right") - 1)
        return self.beat_marks[i] + (seconds - self.times[i]) * self.qpms[i] / 60.0

    def seconds(self, beats: float) -> float:
        i = max(0, np.searchsorted(self.beat_marks, beats, side="right") - 1)
        return self.times[i] + (beats - self.beat_marks[i]) * 60.0 / self.qpms[i]

    def qpm_at(self, beats: float) -> float:
        return self.qpms[max(0, np.searchsorted(self.beat_marks, beats, side="right") - 1)]


@dataclasses.dataclass
class KeptPart:
    """A part the musician played: its notes exactly as read, and where they came from."""
    role: str
    notes: list                   # NoteSequence.Note copies, untouched
    tracks: list[int]             # instrument (track) numbers they came from
    others: list[int] = dataclasses.field(default_factory=list)  # tracks that also qualified

    def describe(self) -> str:
        text = f"{self.role}: track {'+'.join(map(str, self.tracks))} ({len(self.notes)} notes)"
        if self.others:
            text += f"; also {self.role}-like: track {', '.join(map(str, self.others))} (pick with --track)"
        return text


def parse_keep(text: str) -> list[str]:
    keep = [k.strip() for k in str(text).split(",") if k.strip()]
    bad = [k for k in keep if k not in ROLES]
    if bad or not keep:
        raise CompleteError(f"--keep {text!r}: name one or two of {', '.join(ROLES)}, "
                            "comma-separated (e.g. --keep bass or --keep bass,drums)")
    keep = list(dict.fromkeys(keep))
    if len(keep) == len(ROLES):
        raise CompleteError("--keep names all three parts: nothing is left to complete")
    return keep


def read_input(data: bytes) -> note_seq.NoteSequence:
    """Parses a MIDI file and checks what completion needs: notes, and 4/4 throughout."""
    try:
        ns = seeds.parse_midi(data)
    except seeds.SeedImportError as e:
        raise CompleteError(f"cannot read the file: {e}") from None
    if not ns.notes:
        raise CompleteError("empty: the file has no notes")
    odd = [ts for ts in ns.time_signatures if (ts.numerator, ts.denominator) != (4, 4)]
    if odd:
        raise CompleteError(f"not 4/4: the file is in {odd[0].numerator}/{odd[0].denominator} "
                            f"from {odd[0].time:.2f} s; the trio model plays 4/4 only")
    return ns


def _track_list(parts: Sequence[seeds.Part]) -> str:
    return ", ".join(f"{p.instrument} ({'drums' if p.is_drum else f'program {p.program}'}, "
                     f"{p.notes} notes, mean pitch {p.mean_pitch:.0f})" for p in parts) or "none"


def find_parts(ns: note_seq.NoteSequence, keep: Sequence[str], track: int | None = None) -> dict[str, KeptPart]:
    """The kept parts, found by role as the seed import finds them (seeds.classify): drums
    are every drum track, the bass the lowest bass-like track, the lead the highest other
    pitched track. Unlike the import, a track with a single note qualifies (a one-bar line
    is input enough). `track` picks one of several that qualify."""
    parts = seeds.describe_parts(ns)
    roles = seeds.classify(parts, min_notes=1)
    candidates = {"drums": roles.drums, "bass": roles.basses, "lead": roles.leads}
    if track is not None and not any(p.instrument == track for r in keep for p in candidates[r]):
        raise CompleteError(f"--track {track} is not a {' or '.join(keep)} track; "
                            + "; ".join(f"{r} tracks: {_track_list(candidates[r])}" for r in keep))
    out = {}
    for role in keep:
        found = candidates[role]
        if not found:
            what = {"drums": "no drum track (MIDI channel 10)",
                    "bass": "no bass line (a track on a bass program, 32–39, or lower than C3 on average)",
                    "lead": "no lead (a pitched track above the bass)"}[role]
            raise CompleteError(f"{what}; the file's tracks: {_track_list(parts)}")
        chosen = [p for p in found if p.instrument == track] if track is not None else []
        if not chosen:
            chosen = found if role == "drums" else found[:1]
        ids = sorted({p.instrument for p in chosen})
        is_drum = role == "drums"
        notes = []
        for n in ns.notes:
            if n.instrument in ids and n.is_drum == is_drum:
                m = note_seq.NoteSequence.Note()
                m.CopyFrom(n)
                notes.append(m)
        others = sorted({p.instrument for p in found} - set(ids))
        out[role] = KeptPart(role, notes, ids, others)
    return out


# ── Tokens: the model's one-hot classes, read off the beat grid ─────────────────────────

@dataclasses.dataclass
class _Beat:
    start: float
    end: float
    pitch: int
    velocity: int = 0
    part: int = 0


def _fold(pitch: int) -> int:
    while pitch < MELODY_LOW:
        pitch += 12
    while pitch > MELODY_HIGH:
        pitch -= 12
    return pitch


def part_tokens(notes: Sequence, role: str, tempo: TempoMap, start_step: int, steps: int) -> np.ndarray:
    """(steps,) class ids of `role` from `start_step` on: for lead and bass one line (the
    skyline from above or below, as the import makes it), 0 hold/rest, 1 note-off,
    pitch − 19 an onset; for drums the bit set of the 9 drum classes struck at each step."""
    from .offline.musicstats import DRUM_CLASS
    tok = np.zeros(steps, np.int64)
    beats = [_Beat(tempo.beats(n.start_time), tempo.beats(n.end_time), n.pitch) for n in notes]
    if role == "drums":
        for n in beats:
            s = round(n.start * STEPS_PER_BEAT) - start_step
            if 0 <= s < steps and n.pitch in DRUM_CLASS:
                tok[s] |= 1 << DRUM_CLASS[n.pitch]
        return tok
    line = seeds.skyline(beats, top=(role == "lead"), legato_s=0.5)  # an eighth of a bar
    onsets, offs = {}, set()
    for n in line:
        s = round(n.start * STEPS_PER_BEAT) - start_step
        e = max(s + 1, round(n.end * STEPS_PER_BEAT) - start_step)
        if s < steps and e > 0:
            if s >= 0:
                onsets[s] = _fold(n.pitch) - MELODY_LOW + 2
            if e < steps:
                offs.add(e)
    for e in offs:
        tok[e] = MELODY_NOTE_OFF
    for s, c in onsets.items():
        tok[s] = c
    return tok


def trio_tensor(tokens: dict[str, np.ndarray], depths=(90, 90, 512), steps: int = 256) -> np.ndarray:
    """The converter's (steps, 692) one-hot input; parts not given are empty (rests)."""
    x = np.zeros((steps, sum(depths)), np.float32)
    offset = 0
    for role, depth in zip(ROLES, depths):
        tok = np.zeros(steps, np.int64)
        if role in tokens:
            tok[:len(tokens[role])] = tokens[role]
        x[np.arange(steps), offset + tok] = 1.0
        offset += depth
    return x


# ── The search ───────────────────────────────────────────────────────────────────────────

@dataclasses.dataclass
class Search:
    """How many candidates, and how the search refines them; every number is a choice."""
    candidates: int = 64          # first pool (encodings, previous z, seeds, prior draws)
    rounds: int = 3               # rounds of steps around the best
    keep_best: int = 4            # pool members each round steps from
    step: float = 0.5             # first round's step (standard deviation per dimension) ...
    shrink: float = 0.5           # ... times this each round
    prior_weight: float = 1.0     # weight of log N(z; 0, I) beside the kept part's likelihood


def objective(scorer: Scorer, z: np.ndarray, tokens: dict[str, np.ndarray], prior_weight: float,
              center: np.ndarray | None = None) -> np.ndarray:
    """log p(kept | z) + prior_weight · log N(z; center, I) (up to a constant); center 0
    unless given (the station's band mode centres it on the walk's position)."""
    ll = sum(scorer.log_likelihood(z, role, tok) for role, tok in tokens.items())
    d = z.astype(np.float64) - (0.0 if center is None else np.asarray(center, np.float64))
    return ll - prior_weight * 0.5 * np.sum(d ** 2, axis=1)


def search_z(scorer: Scorer, tokens: dict[str, np.ndarray], start: Sequence[np.ndarray],
             pool: np.ndarray, z_size: int, rng: np.random.Generator,
             search: Search = Search(), batch: int = 64,
             center: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """The best z for the kept tokens: `start` (always tried) + rows of `pool` + prior draws
    up to `search.candidates`, then `search.rounds` rounds of Gaussian steps around the best
    `keep_best`. With `center`, the prior is N(center, I) (see `objective`) and the draws
    are Gaussian steps of `search.step` around it. Returns the `keep_best` best z
    (k, z_size), best first, their objective values (k,) and how many candidates were scored."""
    first = [np.asarray(z, np.float32) for z in start]
    take = max(0, search.candidates - len(first))
    if len(pool) and take:
        idx = rng.choice(len(pool), size=min(take // 2 or 1, len(pool)), replace=False)
        first += list(pool[idx])
    while len(first) < max(search.candidates, 1):
        draw = rng.standard_normal(z_size)
        first.append((draw if center is None else center + search.step * draw).astype(np.float32))
    zs = np.stack(first).astype(np.float32)

    def score(z):
        return np.concatenate([objective(scorer, z[i:i + batch], tokens, search.prior_weight, center)
                               for i in range(0, len(z), batch)])

    values = score(zs)
    scored = len(zs)
    sigma = search.step
    per_round = max(search.keep_best, search.candidates // 2)
    for _ in range(search.rounds):
        best = np.argsort(-values)[:search.keep_best]
        parents = zs[rng.choice(best, size=per_round)]
        children = (parents + sigma * rng.standard_normal(parents.shape)).astype(np.float32)
        child_values = score(children)
        scored += len(children)
        zs, values = np.concatenate([zs, children]), np.concatenate([values, child_values])
        sigma *= search.shrink
    best = np.argsort(-values)[:search.keep_best]
    return zs[best], values[best], scored


# ── Choosing among sampled completions ───────────────────────────────────────────────────
# The hierdec decoder samples its parts independently given z, so a lead drawn from a z
# that explains the bass line still meets it only through z: measured on held-out bass
# lines, its onsets over the bass land on a consonant interval about as often as a
# random lead's (0.51–0.55, see bench/complete.py). So several completions are sampled
# from the best few z and the one that fits the kept part best is played: the attribute
# constraints of Engel et al. (there a learned critic on z; here measured on the samples).

CONSONANT = frozenset({0, 3, 4, 7, 8, 9})   # interval classes: unison/octave, thirds, fifth, sixths


@dataclasses.dataclass
class Choose:
    """Samples drawn per window and how the fit weighs them. Every number is a choice, made
    on bench/complete.py's held-out bass lines (the bench's excerpts, so it measures what
    was tuned on; see its results for the rows before and after)."""
    samples: int = 8              # per z, from each of the search's keep_best z (32 in all)
    consonance: float = 2.0       # weight of lead onsets over the bass on a consonant interval
    unison: float = 0.35          # share of lead onsets on the bass's pitch class tolerated ...
    one_pitch: float = 0.10       # ... of lead bars holding one pitch ...
    repeated: float = 0.15        # ... of lead notes repeating the previous one
    penalty: float = 1.5          # fit lost per unit over those allowances
    drums_on_bass: float = 0.5    # weight of bass onsets met by a drum onset (up to 0.9)
    presence: float = 0.5         # weight of bars where each new part plays (up to 0.8)


def _sounding(tokens: np.ndarray) -> np.ndarray:
    """The pitch sounding at each step of a melody token line (-1: none)."""
    out = np.full(len(tokens), -1)
    current = -1
    for i, t in enumerate(tokens):
        if t >= 2:
            current = t - 2 + MELODY_LOW
        elif t == MELODY_NOTE_OFF:
            current = -1
        out[i] = current
    return out


def fit(parts: dict[str, np.ndarray], new: Sequence[str], choose: Choose = Choose()) -> float:
    """How well one completion's parts (token lines of equal length, kept and new) play
    together: the lead's onsets over the bass on consonant intervals, minus what exceeds
    the unison, one-pitch-bar and repeated-note allowances; bass onsets met by drums; bars
    where the new parts play."""
    lead, bass, drums = parts["lead"], parts["bass"], parts["drums"]
    bars = max(1, len(lead) // STEPS_PER_BAR)
    score = 0.0
    under = _sounding(bass)
    onsets = np.flatnonzero(lead >= 2)
    pitches = lead[onsets] - 2 + MELODY_LOW
    over = under[onsets] >= 0
    if over.any():
        ic = (pitches[over] - under[onsets][over]) % 12
        score += choose.consonance * float(np.mean([i in CONSONANT for i in ic]))
        score -= choose.penalty * max(0.0, float(np.mean(ic == 0)) - choose.unison)
    if "lead" in new and len(pitches):
        sounding = _sounding(lead)     # a note held into a bar sounds in it, as musicstats counts
        bar_sets = [set(sounding[b * STEPS_PER_BAR:(b + 1) * STEPS_PER_BAR]) - {-1} for b in range(bars)]
        played = [x for x in bar_sets if x]
        score -= choose.penalty * max(0.0, float(np.mean([len(x) <= 1 for x in played])) - choose.one_pitch)
        if len(pitches) > 1:
            score -= choose.penalty * max(0.0, float(np.mean(pitches[1:] == pitches[:-1])) - choose.repeated)
    bass_onsets = np.flatnonzero(bass >= 2)
    if len(bass_onsets) and ("drums" in new or "bass" in new):
        score += choose.drums_on_bass * min(0.9, float(np.mean(drums[bass_onsets] > 0)))
    for role in new:
        line = parts[role]
        sounding = line > 0 if role == "drums" else line >= 2
        score += choose.presence * min(0.8, float(np.mean(sounding.reshape(bars, -1).any(axis=1))))
    return score


def choose_sample(model, zs: np.ndarray, tokens: dict[str, np.ndarray], missing: Sequence[str],
                  temperature: float, steps: int, choose: Choose = Choose()) -> tuple[np.ndarray, float]:
    """Samples `choose.samples` completions from each row of zs and returns the token ids
    [3, 1, steps] of the best fitting one (kept parts as given) and its fit.

    Given z the decoder samples each part on its own, so the lead (and bass) of one sample
    and the drums of another sample of the same z are as much a draw from the model as
    either sample: per z the pitched parts are chosen first, then the drums that fit them
    best, from all of that z's samples."""
    n = choose.samples
    z = np.repeat(np.asarray(zs, np.float32), n, axis=0)
    ids = model.decode_ids(z, temperature, steps)                  # [3, len(zs) * n, steps]
    drums = ROLES.index("drums")

    def parts(pitched: int, drum: int) -> dict[str, np.ndarray]:
        return {r: tokens[r] if r in tokens else ids[k, drum if k == drums else pitched]
                for k, r in enumerate(ROLES)}

    best, best_fit = (0, 0), -np.inf
    for group in range(len(zs)):
        members = range(group * n, (group + 1) * n)
        pitched = max(members, key=lambda i: fit(parts(i, i), missing, choose))
        drum = max(members, key=lambda j: fit(parts(pitched, j), missing, choose)) \
            if "drums" in missing else pitched
        f = fit(parts(pitched, drum), missing, choose)
        if f > best_fit:
            best, best_fit = (pitched, drum), f
    out = ids[:, best[0]:best[0] + 1].copy()
    out[drums] = ids[drums, best[1]:best[1] + 1]
    return out, best_fit


# ── One window ──────────────────────────────────────────────────────────────────────────

@dataclasses.dataclass
class Solved:
    """One window's answer: the chosen sample's token ids [3, 1, steps] and the search's."""
    ids: np.ndarray
    zs: np.ndarray                # the search's best z, best first
    values: np.ndarray            # their objective values
    scored: int                   # latent points scored
    fit: float                    # the chosen sample's fit


def solve_window(model, scorer: Scorer, tokens: dict[str, np.ndarray], missing: Sequence[str],
                 start: Sequence[np.ndarray], pool: np.ndarray, rng: np.random.Generator,
                 search: Search, temperature: float, choose: Choose,
                 center: np.ndarray | None = None, encode: bool = True) -> Solved:
    """Searches z for the kept `tokens` (from `start`, and the window itself encoded unless
    `encode` is False) and samples the missing parts from the best few: `search_z`, then
    `choose_sample`."""
    steps = len(next(iter(tokens.values())))
    start = [model.encode([trio_tensor(tokens)])[0], *start] if encode else list(start)
    zs, values, scored = search_z(scorer, tokens, start, pool, model.z_size, rng, search, center=center)
    ids, chosen_fit = choose_sample(model, zs, tokens, missing, temperature, steps, choose)
    return Solved(ids, zs, values, scored, chosen_fit)


def place(seq: note_seq.NoteSequence, start_beat: float, bars: int, tempo: TempoMap,
          groove: Groove | None, seed: int, segment_id: int = 0) -> list:
    """A decoded window's notes (at the model's 120 qpm) put on the input's beat grid from
    `start_beat` through its tempo map, humanized first unless `groove` is None: (role,
    note) pairs, times in the input's seconds."""
    qpm = tempo.qpm_at(start_beat)
    segment = Segment(id=segment_id, sequence=retime(seq, qpm), qpm=qpm, bars=bars)
    if groove is not None:
        segment = humanize(segment, groove, seed)
    out = []
    for n in segment.sequence.notes:
        m = note_seq.NoteSequence.Note()
        m.CopyFrom(n)
        m.start_time = tempo.seconds(start_beat + n.start_time * qpm / 60.0)
        m.end_time = tempo.seconds(start_beat + n.end_time * qpm / 60.0)
        out.append(("drums" if n.is_drum else ("bass" if n.instrument == BASS else "lead"), m))
    return out


def window_sequence(placed: list, kept: dict[str, KeptPart], start_s: float, end_s: float,
                    first: bool = False) -> note_seq.NoteSequence:
    """One window as the renderer takes it (parts by INSTRUMENT, times from the window's
    start): the placed new notes, and the kept notes starting in it copied field by field
    (`first`: also those before the input's zero)."""
    out = note_seq.NoteSequence()
    for role, n in placed:
        w = out.notes.add()
        w.CopyFrom(n)
        w.instrument = INSTRUMENT[role]
        w.start_time, w.end_time = n.start_time - start_s, n.end_time - start_s
    for part in kept.values():
        for n in part.notes:
            if start_s - 1e-9 <= n.start_time < end_s - 1e-9 or (first and n.start_time < 0):
                w = out.notes.add()
                w.CopyFrom(n)
                w.instrument, w.is_drum = INSTRUMENT[part.role], part.role == "drums"
                w.start_time, w.end_time = n.start_time - start_s, n.end_time - start_s
    out.total_time = end_s - start_s
    return out


# ── Completion ──────────────────────────────────────────────────────────────────────────

@dataclasses.dataclass
class Window:
    index: int
    start_bar: int
    bars: int
    score: float                  # the search's objective at its best z (nats)
    kept_nats_per_step: float     # the kept parts' log-likelihood per step there (without the prior)
    candidates: int               # latent points scored
    fit: float                    # the chosen sample's fit (see `fit`)


@dataclasses.dataclass
class Completion:
    """The completed band: `sequence` holds the kept notes exactly as read plus the new parts
    (instrument numbers past the input's), at the input's tempo map. `segments` are the same
    music cut at the windows, as the renderer takes it (parts by INSTRUMENT)."""
    sequence: note_seq.NoteSequence
    kept: dict[str, KeptPart]
    new_instruments: dict[str, int]
    windows: list[Window]
    segments: list[Segment]
    bars: int


def model_config(path) -> str:
    """The config name of a model folder or checkpoint, read from its card or its name
    (without loading anything)."""
    from pathlib import Path
    from .model import CARD_NAME, DEFAULT_MODEL_DIR, ModelCard, ModelError, _config_from_checkpoint_name
    folder = Path(path) if path else DEFAULT_MODEL_DIR
    if not folder.exists():
        raise ModelError(f"model {folder} does not exist; `radio doctor` shows the default model's place")
    if folder.is_dir() and (folder / CARD_NAME).exists():
        return ModelCard.read(folder).config
    return _config_from_checkpoint_name(folder)


def check_model(config_name: str) -> None:
    if not config_name.startswith("hierdec-"):
        raise CompleteError(
            f"the model is {config_name}: completion needs a hierarchical (hierdec) trio model, "
            "whose decoder writes each part on its own given z. A flat trio model decodes the "
            "three parts together, step by step, so one part cannot be scored alone; use "
            "hierdec-trio_16bar (the default model is one)")


def bar_count(ns: note_seq.NoteSequence, tempo: TempoMap) -> int:
    end = max(n.end_time for n in ns.notes)
    return max(1, math.ceil(tempo.beats(end) / 4 - 1e-6))


def generated(seq: note_seq.NoteSequence, roles: Sequence[str], bars: int) -> note_seq.NoteSequence:
    """The decoded window's `roles` only, cut at `bars` (at the model's 120 qpm)."""
    out = note_seq.NoteSequence()
    out.tempos.add(qpm=MODEL_QPM)
    end = bars * 4 * 60.0 / MODEL_QPM
    for n in seq.notes:
        role = "drums" if n.is_drum else ("bass" if n.instrument == BASS else "lead")
        if role in roles and n.start_time < end - 1e-6:
            m = out.notes.add()
            m.CopyFrom(n)
            m.end_time = min(n.end_time, end) if not n.is_drum else n.end_time
    out.total_time = end
    return out


def complete(ns: note_seq.NoteSequence, kept: dict[str, KeptPart], model, scorer: Scorer,
             anchors: np.ndarray | None = None, search: Search = Search(), temperature: float = 1.0,
             groove: Groove | None = Groove(), seed: int = 0, progress=None,
             choose: Choose = Choose()) -> Completion:
    """Completes `ns`: the parts not in `kept` are made window by window (see the module
    docstring). `model` encodes and decodes token ids (the numpy engine's `encode`,
    `decode_ids`); `anchors` (n, z) are seed encodings to start the search from; `groove`
    None leaves the new parts on the grid."""
    tempo = TempoMap(ns.tempos)
    bars = bar_count(ns, tempo)
    missing = [r for r in ROLES if r not in kept]
    rng = np.random.default_rng(seed)
    pool = np.zeros((0, model.z_size), np.float32) if anchors is None else np.asarray(anchors, np.float32)
    windows, decoded, previous = [], [], None
    for w, start_bar in enumerate(range(0, bars, WINDOW_BARS)):
        wbars = min(WINDOW_BARS, bars - start_bar)
        steps = wbars * STEPS_PER_BAR
        tokens = {role: part_tokens(part.notes, role, tempo, start_bar * STEPS_PER_BAR, steps)
                  for role, part in kept.items()}
        got = solve_window(model, scorer, tokens, missing, [] if previous is None else [previous],
                           pool, rng, search, temperature, choose)
        kept_ll = float(sum(scorer.log_likelihood(got.zs[:1], r, t)[0] for r, t in tokens.items()))
        windows.append(Window(w, start_bar, wbars, float(got.values[0]), kept_ll / steps / len(tokens),
                              got.scored, got.fit))
        decoded.append(generated(to_sequences(got.ids)[0], missing, wbars))
        previous = got.zs[0]
        if progress:
            progress(windows[-1])
    for a, b in zip(decoded, decoded[1:]):
        tie_over(a, b, WINDOW_BARS * 4 * 60.0 / MODEL_QPM)
    return _assemble(ns, kept, missing, decoded, windows, tempo, groove, seed)


def _assemble(ns, kept, missing, decoded, windows, tempo: TempoMap, groove, seed) -> Completion:
    out = note_seq.NoteSequence()
    out.ticks_per_quarter = ns.ticks_per_quarter or 220
    for t in ns.tempos:
        out.tempos.add().CopyFrom(t)
    if not ns.tempos:
        out.tempos.add(qpm=120.0)
    for ts in ns.time_signatures:
        out.time_signatures.add().CopyFrom(ts)
    if not ns.time_signatures:
        out.time_signatures.add(numerator=4, denominator=4)
    kept_tracks = {i for part in kept.values() for i in part.tracks}
    for info in ns.instrument_infos:      # the kept tracks' names, as they were
        if info.instrument in kept_tracks:
            out.instrument_infos.add().CopyFrom(info)
    for part in kept.values():
        for n in part.notes:
            out.notes.add().CopyFrom(n)
    first_free = max([n.instrument for n in ns.notes] + [-1]) + 1
    new_instruments = {role: first_free + i for i, role in enumerate(missing)}
    for role, instrument in new_instruments.items():
        out.instrument_infos.add(instrument=instrument, name=NEW_TRACK_NAME.format(role=role))
    segments = []
    for win, seq in zip(windows, decoded):
        start_beat = win.start_bar * 4
        placed = place(seq, start_beat, win.bars, tempo, groove, seed, win.index)
        for role, n in placed:
            m = out.notes.add()
            m.CopyFrom(n)
            m.instrument = new_instruments[role]
        start_s = tempo.seconds(start_beat)
        end_s = tempo.seconds(start_beat + 4 * win.bars)
        window_notes = window_sequence(placed, kept, start_s, end_s, first=win.index == 0)
        # the average tempo makes the segment last exactly as long as the window plays
        segments.append(Segment(id=win.index, sequence=window_notes,
                                qpm=4 * win.bars * 60.0 / (end_s - start_s), bars=win.bars,
                                humanized=groove is not None))
    out.total_time = max([n.end_time for n in out.notes] + [tempo.seconds(4 * sum(w.bars for w in windows))])
    return Completion(out, kept, new_instruments, windows, segments, sum(w.bars for w in windows))


def to_midi(completion: Completion, programs: dict[str, int]) -> note_seq.NoteSequence:
    """The completion with GM programs on the new parts (kept parts keep theirs)."""
    out = note_seq.NoteSequence()
    out.CopyFrom(completion.sequence)
    by_instrument = {i: r for r, i in completion.new_instruments.items()}
    for n in out.notes:
        role = by_instrument.get(n.instrument)
        if role and role != "drums":
            n.program = programs[role]
    return out


def midi_bytes(ns: note_seq.NoteSequence) -> bytes:
    import io
    buf = io.BytesIO()
    note_seq.midi_io.note_sequence_to_pretty_midi(ns).write(buf)
    return buf.getvalue()


# ── Loading once, and files out ─────────────────────────────────────────────────────────

def seed_anchors(model, folder) -> np.ndarray:
    """Encodings of every 16-bar trio segment of a seed folder (one subfolder a set)."""
    from .seedsets import SeedLibrary
    paths = [p for _, p in SeedLibrary(folder).files()]
    segments, _ = seeds.import_files(paths, model.converter)
    if not segments:
        return np.zeros((0, model.z_size), np.float32)
    return model.encode([s.tensor for s in segments])


class Band:
    """The model and the seed encodings, loaded once (per CLI run, or per API worker
    process), so that `complete` is cheap to run many times.

    The model is the numpy engine (radio/engine): it encodes, decodes with a seeded
    generator, and scores a part teacher-forced (`log_likelihood`), with forward passes
    only. Only the seed import's converter brings in magenta (and TensorFlow)."""

    def __init__(self, model_path=None, seed_folder=None):
        from .engine.model import EngineError, NumpyTrioModel
        try:
            self.model = NumpyTrioModel(model_path)
        except EngineError as e:
            raise CompleteError(str(e)) from None
        check_model(self.model.card.config)
        self.anchors = seed_anchors(self.model, seed_folder) if seed_folder else None

    def complete(self, ns, kept, seed: int = 0, **kw) -> Completion:
        self.model.rng = np.random.default_rng([seed, 17])   # same input and seed: same band
        return complete(ns, kept, self.model, self.model, self.anchors, seed=seed, **kw)


def render(completion: Completion, settings) -> np.ndarray:
    """(2, n) float32 PCM at the renderer's rate: the band through the default sound preset
    (kept parts on its programs too), mastered like `radio generate`'s files."""
    from .master import master_whole
    from .presets import resolve
    from .renderer import SAMPLE_RATE, Renderer
    from .sound import Audio, Mixer, load_plugins
    sound = resolve(settings.sound or "default", {}, None if settings.lead_program < 0 else settings.lead_program,
                    None if settings.bass_program < 0 else settings.bass_program)
    renderer = Renderer(settings.soundfont or None, sound)
    mixer = Mixer(sound, SAMPLE_RATE, load_plugins(settings.plugins))
    try:
        pcm = []
        for segment in completion.segments:
            parts = {p: Audio(x, SAMPLE_RATE) for p, x in renderer.render(segment).items()}
            pcm.append(mixer.process(parts).samples)
    finally:
        renderer.close()
    return master_whole(np.concatenate(pcm, axis=1), SAMPLE_RATE, settings.loudness_lufs)


def programs_for(settings) -> dict[str, int]:
    from .presets import resolve
    sound = resolve(settings.sound or "default")
    lead = settings.lead_program if settings.lead_program >= 0 else sound.lead.program
    bass = settings.bass_program if settings.bass_program >= 0 else sound.bass.program
    return {"lead": lead, "bass": bass}
