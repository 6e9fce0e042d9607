"""The live-flood world: deterministic for a seed, overlapping signals, hostile text."""

from __future__ import annotations

import dataclasses

import pytest

from ircli.errors import InvalidInput
from ircli.sandbox.payloads import HOSTILE_PAYLOADS, LONG_PAYLOAD_LENGTH
from ircli.sandbox.world import BOT, COMPROMISED, HONEST, World, WorldConfig, generate_world
from tests.sandbox.conftest import SMALL

NOW = 1_796_000_000.0


def _fingerprint(world: World) -> tuple[object, ...]:
    return (
        bytes(world.kind),
        world.acc_created.tobytes(),
        world.acc_device.tobytes(),
        world.acc_ip.tobytes(),
        world.s_account.tobytes(),
        world.s_score.tobytes(),
        world.s_viewers.tobytes(),
        world.r_stream.tobytes(),
        tuple(world.domains),
        tuple(world.attackers),
        [world.account_name(i) for i in range(world.account_count)],
        [world.stream_title(i) for i in range(world.stream_count)],
    )


def test_same_seed_gives_the_same_world() -> None:
    assert _fingerprint(generate_world(SMALL, now=NOW)) == _fingerprint(
        generate_world(SMALL, now=NOW)
    )


def test_a_different_seed_gives_a_different_world() -> None:
    other = dataclasses.replace(SMALL, seed=8)
    assert _fingerprint(generate_world(SMALL, now=NOW)) != _fingerprint(
        generate_world(other, now=NOW)
    )


def test_sizes_follow_the_config() -> None:
    world = generate_world(SMALL, now=NOW)
    assert world.account_count == SMALL.honest_accounts + SMALL.bot_accounts
    assert world.kind.count(BOT) == SMALL.bot_accounts
    assert world.kind.count(COMPROMISED) == SMALL.compromised_accounts
    malicious = sum(world.s_malicious)
    live_bots = int(SMALL.bot_accounts * SMALL.initial_bot_live_fraction)
    assert malicious == live_bots + SMALL.compromised_accounts
    assert world.stream_count == SMALL.honest_streams + malicious
    assert all(world.s_created[s] <= NOW for s in range(world.stream_count))


def test_default_config_is_the_documented_scale() -> None:
    config = WorldConfig()
    assert config.honest_accounts >= 200_000
    assert config.honest_streams >= 30_000
    assert config.bot_accounts == 17_000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scenario": "nope"}, "unknown scenario"),
        ({"honest_streams": 10**6}, "honest streams"),
        ({"bot_rate": -1.0}, "bot rate"),
        ({"max_batch": 0}, "max batch"),
        ({"attack_start_seconds": -1.0}, "attack start"),
        ({"attack_start_seconds": float("nan")}, "attack start"),
        ({"attack_ramp_seconds": 4000.0}, "attack ramp"),
        ({"report_rate": -1.0}, "report rates"),
    ],
)
def test_invalid_configs_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        generate_world(dataclasses.replace(SMALL, **change), now=NOW)  # type: ignore[arg-type]


def test_hostile_payloads_are_in_names_titles_and_reports() -> None:
    world = generate_world(dataclasses.replace(SMALL, bot_accounts=2_000), now=NOW)
    names = {world.account_name(i) for i in range(world.account_count)}
    titles = {world.stream_title(i) for i in range(world.stream_count)}
    texts = {world.report_text(i) for i in range(len(world.r_stream))}
    everything = names | titles | texts
    assert names & set(HOSTILE_PAYLOADS)
    assert titles & set(HOSTILE_PAYLOADS)
    assert texts & set(HOSTILE_PAYLOADS)
    joined = "\n".join(everything)
    for needle in ("<script>", "](javascript:", "=HYPERLINK(", "[bold red]", "\x1b[", "\x07"):
        assert needle in joined
    assert "\u202e" in joined
    assert any(len(text) >= LONG_PAYLOAD_LENGTH for text in everything)


def _precision_recall(world: World, selected: set[int]) -> tuple[float, float]:
    bots = {a for a in range(world.account_count) if world.kind[a] == BOT}
    hits = len(selected & bots)
    return hits / max(1, len(selected)), hits / len(bots)


def test_naive_filters_hit_honest_accounts_but_a_combination_separates() -> None:
    world = generate_world(dataclasses.replace(SMALL, honest_accounts=20_000), now=NOW)
    accounts = range(world.account_count)
    young = {a for a in accounts if NOW - world.acc_created[a] < 3 * 86_400}
    shared_ip = {a for a in accounts if world.ip_sizes[world.acc_ip[a]] >= 20}
    shared_device = {a for a in accounts if world.device_sizes[world.acc_device[a]] >= 10}
    for naive in (young, shared_ip, shared_device):
        assert any(world.kind[a] == HONEST for a in naive)
    precision, recall = _precision_recall(world, shared_ip)
    assert precision < 0.5
    precision, recall = _precision_recall(world, young & shared_device)
    assert precision > 0.95
    assert recall > 0.7
    # compromised accounts share the attacker's device farms but are old
    compromised = {a for a in accounts if world.kind[a] == COMPROMISED}
    assert compromised <= shared_device
    assert not compromised & young


def test_verified_accounts_are_long_standing_users_staff_and_some_taken_over() -> None:
    world = generate_world(SMALL, now=NOW)
    verified = [a for a in range(world.account_count) if world.acc_verified[a]]
    kinds = [world.kind[a] for a in verified]
    assert BOT not in kinds
    assert kinds.count(COMPROMISED) == 1  # 5% of 20
    ages = [(NOW - world.acc_created[a]) / 86_400 for a in verified if world.kind[a] == HONEST]
    staff = [age for age in ages if age < 3]
    assert len(staff) == 5  # made this week: what a young-account rule selects
    assert all(age > 180 for age in ages if age >= 3)
    elders = sum(
        1
        for a in range(world.account_count)
        if world.kind[a] == HONEST and NOW - world.acc_created[a] > 180 * 86_400
    )
    assert len(ages) - len(staff) == elders // 100
    assert generate_world(SMALL, now=NOW).acc_verified == world.acc_verified
