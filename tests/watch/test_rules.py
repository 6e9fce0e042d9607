"""Signals over time and rules over them, without I/O: baselines, holding, firing, cooling."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ircli.watch.loader import load_watch
from ircli.watch.model import WatchFile, conditions_of
from ircli.watch.rules import RuleState, Sample, SignalState
from tests.playbook.queries import sandbox_profile

WATCH = """\
watch: 1
name: t
signals:
  young:
    listing: streams
    every: 2s
    baseline: 60s
    min_baseline_samples: 3
rules:
  flood:
    when:
      - {signal: young, above: 25}
      - {signal: young, above_baseline: 10}
    for: 4s
    cooldown: 20s
  rising:
    when:
      - {signal: young, rate_above: 600}
"""


def spec(tmp_path: Path, text: str = WATCH) -> WatchFile:
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8")
    return load_watch(path, profile=sandbox_profile()).watch


class World:
    """One signal fed by hand, every rule judged after each sample."""

    def __init__(self, watch: WatchFile) -> None:
        by_signal = conditions_of(watch.rules)
        self.signals = {n: SignalState(s, by_signal.get(n, ())) for n, s in watch.signals.items()}
        self.rules = {n: RuleState(r) for n, r in watch.rules.items()}
        self.fired: list[tuple[str, float, float]] = []

    def feed(self, at: float, value: int) -> None:
        self.signals["young"].add(Sample(at, value))
        for name, state in self.rules.items():
            evidence = state.update(self.signals, at)
            if evidence is not None:
                self.fired.append((name, evidence.held_since, evidence.fired_at))


def test_a_flood_fires_once_held_for_its_duration_dated_when_it_first_held(
    tmp_path: Path,
) -> None:
    world = World(spec(tmp_path))
    rule = world.rules["flood"]
    assert rule.status == "quiet"  # nothing judged yet: no verdicts
    for t in range(0, 20, 2):  # quiet: 0-2 new streams
        world.feed(float(t), t % 3)
    assert world.fired == []  # the rising rule too: +2 in 2 s is 60/min
    assert rule.status == "quiet"
    world.feed(20.0, 40)  # the flood starts: holds, not yet for 4 s
    assert rule.status == "holding"
    world.feed(22.0, 80)
    assert [f for f in world.fired if f[0] == "flood"] == []
    world.feed(24.0, 120)  # 4 s after it first held
    assert [f for f in world.fired if f[0] == "flood"] == [("flood", 20.0, 24.0)]
    assert rule.status == "fired"
    world.feed(26.0, 200)  # still holding: no second firing
    assert [f[0] for f in world.fired].count("flood") == 1


def test_a_spike_shorter_than_for_does_not_fire(tmp_path: Path) -> None:
    world = World(spec(tmp_path))
    for t in range(0, 20, 2):
        world.feed(float(t), 1)
    world.feed(20.0, 60)
    world.feed(22.0, 60)
    world.feed(24.0, 2)  # gone before 4 s
    world.feed(26.0, 60)  # back: holding starts again from here
    world.feed(28.0, 60)
    assert [f for f in world.fired if f[0] == "flood"] == []
    world.feed(30.0, 60)
    assert [f for f in world.fired if f[0] == "flood"] == [("flood", 26.0, 30.0)]


def test_no_baseline_yet_means_the_ratio_is_unknown_and_nothing_fires(tmp_path: Path) -> None:
    world = World(spec(tmp_path))
    world.feed(0.0, 500)
    world.feed(2.0, 500)
    world.feed(4.0, 500)
    world.feed(6.0, 500)
    # the flood is its own only history: its samples never join the baseline
    assert world.signals["young"].baseline(8.0) is None
    assert world.rules["flood"].status == "waiting"
    assert [f for f in world.fired if f[0] == "flood"] == []


def test_the_baseline_is_a_median_of_normal_samples_in_its_window(tmp_path: Path) -> None:
    state = World(spec(tmp_path)).signals["young"]
    for t, v in [(0, 1), (2, 3), (4, 2), (6, 100), (8, 2)]:
        state.add(Sample(float(t), v))
    # 100 held "above 25" (a rising condition): left out of the baseline
    assert state.baseline(10.0) == 2.0
    assert state.baseline(70.0) is None  # all but (8, 2) left the 60 s window: 2 < 3 samples


def test_the_rate_condition_reads_growth_per_minute(tmp_path: Path) -> None:
    world = World(spec(tmp_path))
    world.feed(0.0, 10)
    world.feed(2.0, 20)  # +10 in 2 s = 300/min
    assert world.rules["rising"].status == "quiet"
    world.feed(4.0, 50)  # +30 in 2 s = 900/min: fires at once (no for)
    assert ("rising", 4.0, 4.0) in world.fired


def test_after_firing_the_rule_rearms_only_once_clear_for_its_cooldown(tmp_path: Path) -> None:
    world = World(spec(tmp_path))
    for t in range(0, 20, 2):
        world.feed(float(t), 1)
    for t in (20, 22, 24):
        world.feed(float(t), 100)
    assert len([f for f in world.fired if f[0] == "flood"]) == 1
    for t in range(26, 40, 2):  # clear 14 s: less than the 20 s cooldown
        world.feed(float(t), 1)
    for t in (40, 42, 44):
        world.feed(float(t), 100)
    assert len([f for f in world.fired if f[0] == "flood"]) == 1
    for t in range(46, 70, 2):  # clear for more than 20 s
        world.feed(float(t), 1)
    for t in (70, 72, 74):
        world.feed(float(t), 100)
    assert [f[1:] for f in world.fired if f[0] == "flood"] == [(20.0, 24.0), (70.0, 74.0)]


def test_a_stale_signal_is_unknown_and_does_not_hold(tmp_path: Path) -> None:
    world = World(spec(tmp_path))
    for t in range(0, 20, 2):
        world.feed(float(t), 1)
    world.feed(20.0, 100)
    state = world.signals["young"]
    condition = world.rules["flood"].rule.when[0]
    assert state.verdict(condition, 21.0).holds is True
    assert state.verdict(condition, 40.0).holds is None  # three intervals without a sample
    assert world.rules["flood"].update(world.signals, 40.0) is None
    assert world.rules["flood"].status == "waiting"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=400))
def test_memory_stays_bounded_however_long_it_runs(values: list[int]) -> None:
    watch = spec_once()
    state = World(watch).signals["young"]
    for i, value in enumerate(values):
        state.add(Sample(i * 2.0, value))
    # 60 s window / 2 s + 2: never more, however many samples went in
    assert len(state.window) <= 32
    assert len(state.window) == min(len(values), 32)


_SPEC: list[WatchFile] = []


def spec_once() -> WatchFile:
    if not _SPEC:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            _SPEC.append(spec(Path(folder)))
    return _SPEC[0]
