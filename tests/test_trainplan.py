"""Batch shares per set, the held-out split per set, and the early-stop record."""

import numpy as np
import pytest

from radio.music.seeds import SeedSegment
from radio.offline import trainplan


def _segs(spec: dict[str, tuple[int, int]]) -> list[SeedSegment]:
    """{set: (files, segments per file)} → segments named set/file."""
    return [SeedSegment(f"{name}/f{i}.mid", 4 * j, 120.0, np.zeros((1, 1), bool), None)
            for name, (files, per) in spec.items() for i in range(files) for j in range(per)]


def test_shares_give_each_set_its_part_of_a_batch():
    segs = _segs({"folk": (100, 10), "game": (5, 4)})
    p = trainplan.sampling_probabilities(segs, {"game": 0.5})
    game = np.array([trainplan.set_of(s) == "game" for s in segs])
    assert p.sum() == pytest.approx(1) and p[game].sum() == pytest.approx(0.5)
    assert np.ptp(p[game]) == 0 and np.ptp(p[~game]) == 0        # uniform inside a set
    draws = np.random.default_rng(0).choice(len(segs), 20_000, p=p)
    assert game[draws].mean() == pytest.approx(0.5, abs=0.02)
    assert trainplan.sampling_probabilities(segs, {}) is None
    with pytest.raises(trainplan.PlanError, match="sum to"):
        trainplan.sampling_probabilities(segs, {"game": 1.0})       # folk would get nothing


def test_every_set_holds_out_files_not_segments():
    segs = _segs({"folk": (100, 10), "game": (10, 4), "solo": (1, 8)})
    train, held = trainplan.split_by_file(segs, 0.2)
    held_files = {s.source for s in held}
    assert not held_files & {s.source for s in train}
    by_set = {name: len({f for f in held_files if f.startswith(name + "/")}) for name in ("folk", "game", "solo")}
    assert by_set == {"folk": 20, "game": 2, "solo": 0}   # a one-file set keeps its file for training
    assert trainplan.split_by_file(segs, 0.2) == (train, held)  # the same split every time


def test_early_stop_counts_across_a_restart(tmp_path):
    stop = trainplan.EarlyStop(tmp_path, patience=2)
    assert stop.update(100, 50.0) and not stop.update(200, 51.0) and not stop.done
    again = trainplan.EarlyStop(tmp_path, patience=2)            # resumed run
    assert (again.best, again.best_step, again.bad) == (50.0, 100, 1)
    assert not again.update(300, 50.5) and again.done
    assert trainplan.EarlyStop(tmp_path / "new", patience=0).done is False


def test_echo_stop_keeps_the_last_step_under_the_cap_and_the_start_whatever_it_echoes(tmp_path):
    stop = trainplan.EchoStop(tmp_path, patience=2, cap=0.35)
    assert stop.update(0, 0.1, {"held_out_r_loss": 1800.0}) and stop.update(50, 0.3)     # under: each one later
    assert not stop.update(100, 0.4) and not stop.done and stop.best_step == 50
    assert stop.update(150, 0.35) and stop.best_step == 150 and stop.bad == 0            # back under: goes on
    assert not stop.update(200, 0.5) and not stop.update(250, 0.6) and stop.done
    assert stop.curve[0] == [0, 0.1, 1800.0] and stop.best_step == 150
    again = trainplan.EchoStop(tmp_path, patience=2, cap=0.35)                           # resumed run
    assert again.done and again.best_step == 150
    over = trainplan.EchoStop(tmp_path / "over", patience=1, cap=0.35)
    assert over.update(0, 0.9) and not over.update(50, 0.9) and over.done and over.best_step == 0


def test_pairs_are_parsed_or_refused():
    assert trainplan.parse_pairs(["game=0.5", "rock=0.1"], "--weight") == {"game": 0.5, "rock": 0.1}
    assert trainplan.parse_pairs(["game=3"], "--transpose", int) == {"game": 3}
    for bad in ("game", "=0.5", "game=x"):
        with pytest.raises(trainplan.PlanError, match="SET=VALUE"):
            trainplan.parse_pairs([bad], "--weight")


def test_an_evaluation_spreads_over_every_held_out_file():
    idx = trainplan.eval_indices(2473, 32, 4)           # 128 of 2,473 segments
    assert len(idx) == 128 and idx[0] == 0 and idx[-1] == 2472 and len(set(idx)) == 128
    assert list(trainplan.eval_indices(40, 32, 4)) == list(range(40)) + list(range(24))   # all, wrapped
    assert list(trainplan.eval_indices(5, 4, 8)) == [0, 1, 2, 3, 4, 0, 1, 2]
