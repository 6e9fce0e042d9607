"""The ``live-flood`` scenario: a seeded, compact world of accounts, streams and reports.

Objects are rows in parallel arrays keyed by an integer index; public ids are derived from the
index (``acc_0000042``, ``str_0000042``, ``rep_0000042``) and text is derived lazily from the
index and the seed, so generating the default world (217,400 accounts, ~41,000 live streams)
takes well under two seconds.

Signals overlap on purpose (see docs/sandbox.md, "The scenario"):

- bots are young accounts, mostly on shared emulator devices and datacenter IP pools, streaming
  high-moderation-score content that links to malicious domains — but some bots are aged, some use
  unique devices, some streams evade the classifier, and new streams have no reports yet;
- honest accounts include new users, people behind mobile carrier NAT (large IP clusters),
  families and internet cafés (shared devices), edgy-but-fine streams and brigaded streamers with
  many reports;
- compromised accounts are old honest accounts taken over from the attacker's IP pools and devices;
  they need a password reset and a session revoke, not a freeze.

In a timed world (``attack_start_seconds``) no attacker streams exist yet: the platform starts
them once the attack does (``ircli.sandbox.schedule``).
"""

from __future__ import annotations

import math
import random
from array import array
from collections import Counter
from dataclasses import dataclass, field

from ircli.errors import InvalidInput
from ircli.sandbox.payloads import hostile_payload

__all__ = [
    "BOT",
    "COMPROMISED",
    "ENDED",
    "HONEST",
    "LIVE",
    "SCENARIOS",
    "SUSPENDED",
    "World",
    "WorldConfig",
    "add_honest_stream",
    "add_malicious_stream",
    "generate_world",
]

SCENARIOS = ("live-flood",)

# Account kinds (ground truth).
HONEST, BOT, COMPROMISED = 0, 1, 2
# Stream statuses.
LIVE, SUSPENDED, ENDED = 0, 1, 2

HOUR = 3600.0
DAY = 24 * HOUR
ATTACK_LEAD = 20 * 60.0  # the attack began this long before the sandbox started
MAX_ATTACK_START = 7 * DAY
VERIFIED_MIN_AGE = 180 * DAY
STAFF_ACCOUNTS = 5

LEGIT_DOMAINS = (
    "youtube.com",
    "twitch.tv",
    "instagram.com",
    "discord.gg",
    "patreon.com",
    "ko-fi.com",
    "tiktok.com",
    "spotify.com",
    "github.com",
    "x.com",
)
SHORTENER_DOMAINS = ("bit.ly", "tinyurl.com", "cutt.ly")
_MAL_WORDS_A = ("free", "hot", "live", "xxx", "gift", "crypto", "win", "cam", "nude", "prize")
_MAL_WORDS_B = ("cams", "girls", "drop", "bonus", "chat", "coins", "show", "deal", "clips", "spin")
_MAL_TLDS = ("xyz", "top", "live", "click", "cam", "icu", "buzz", "shop")
REPORT_REASONS = ("sexual_content", "violence", "scam_link", "spam", "harassment", "other")

_ADJ = ("quiet", "brave", "lucky", "sunny", "mellow", "rapid", "cosmic", "tiny", "noble", "witty")
_NOUN = ("otter", "falcon", "maple", "pixel", "river", "tiger", "comet", "panda", "cactus", "lynx")
_GAMES = ("Celeste", "Minecraft", "Elden Ring", "chess", "Factorio", "Stardew Valley", "FIFA")
_ACTIVITIES = ("speedrun", "chill stream", "ranked grind", "first playthrough", "Q&A", "cooking")
_BOT_TITLES = (
    "FREE 18+ LIVE click the link",
    "watch now before it gets banned",
    "hot live show link in bio",
    "claim your gift card live",
    "uncensored live now",
)
_RTL_NAMES = ("ליאור", "مريم", "دانيال", "נועה")  # honest right-to-left names (no overrides)
_REPORT_TEXTS = (
    "This stream shows explicit content.",
    "Graphic violence, please remove.",
    "Scam link in the title.",
    "Spam bot, same as the others.",
    "Harassing people in chat.",
    "Something is wrong with this stream.",
)


@dataclass(frozen=True)
class WorldConfig:
    """The knobs of a scenario; the same config and seed give the same world."""

    scenario: str = "live-flood"
    seed: int = 7
    honest_accounts: int = 200_000
    honest_streams: int = 30_000
    bot_accounts: int = 17_000
    compromised_accounts: int = 400
    bot_rate: float = 20.0
    """New attacker streams per second (of the injected clock) while the live feature lets them."""
    initial_bot_live_fraction: float = 0.65
    """Bots live when the sandbox starts (the attack began 20 minutes before); not in a timed
    world."""
    max_batch: int = 500
    max_page: int = 1000
    attack_start_seconds: float | None = None
    """A timed world: quiet until this many seconds after its start, then the swarm starts.
    ``None``: the attack began 20 minutes before the start (the default world)."""
    attack_ramp_seconds: float = 5.0
    """In a timed world, how long the new-stream rate takes to ramp from 0 to ``bot_rate``."""
    honest_churn_rate: float = 0.5
    """In a timed world, honest streams starting (and as many ending) per second."""
    report_rate: float = 1.0
    """In a timed world, user reports per second arriving on honest live streams."""
    malicious_report_rate: float = 0.01
    """In a timed world, user reports per second per live malicious stream (at most 50/s)."""

    @property
    def timed(self) -> bool:
        """Whether the attack starts at ``attack_start_seconds`` (the world is quiet until)."""
        return self.attack_start_seconds is not None

    def validate(self) -> None:
        """Raise ``InvalidInput`` if a knob is out of range."""
        if self.scenario not in SCENARIOS:
            raise InvalidInput(
                f"unknown scenario {self.scenario!r}; known scenarios: {', '.join(SCENARIOS)}."
            )
        if self.honest_accounts < 1 or self.bot_accounts < 1:
            raise InvalidInput("the world needs at least one honest account and one bot account.")
        if not 0 <= self.honest_streams <= self.honest_accounts - self.compromised_accounts:
            raise InvalidInput(
                "honest streams must be between 0 and the number of honest, uncompromised accounts."
            )
        if not 0 <= self.compromised_accounts <= self.honest_accounts // 2:
            raise InvalidInput("compromised accounts must be between 0 and half the honest ones.")
        if self.bot_rate < 0:
            raise InvalidInput("the bot rate must not be negative.")
        if not 0 <= self.initial_bot_live_fraction <= 1:
            raise InvalidInput("the initial bot live fraction must be between 0 and 1.")
        if not 1 <= self.max_batch <= 10_000 or not 1 <= self.max_page <= 100_000:
            raise InvalidInput("max batch must be 1-10000 and max page 1-100000.")
        start = self.attack_start_seconds
        if start is not None and not 0 <= start <= MAX_ATTACK_START:
            raise InvalidInput(
                f"the attack start must be between 0 and {MAX_ATTACK_START:,.0f} seconds."
            )
        if not 0 <= self.attack_ramp_seconds <= 3_600:
            raise InvalidInput("the attack ramp must be between 0 and 3600 seconds.")
        rates = (self.honest_churn_rate, self.report_rate, self.malicious_report_rate)
        if not all(0 <= rate <= 1_000 for rate in rates):
            raise InvalidInput("the churn and report rates must be between 0 and 1000 a second.")


@dataclass
class World:
    """The mutable rows of one generated world (domain state lives in ``Platform``)."""

    config: WorldConfig
    started_at: float
    # accounts
    kind: bytearray
    acc_created: array[float]
    acc_frozen: bytearray
    acc_reports: array[int]
    acc_device: array[int]
    acc_ip: array[int]
    acc_sessions: bytearray
    acc_names: dict[int, str]
    device_sizes: dict[int, int]
    ip_sizes: dict[int, int]
    # streams (grow while bots keep streaming)
    s_account: array[int]
    s_created: array[float]
    s_status: bytearray
    s_viewers: array[int]
    s_score: array[float]
    s_reports: array[int]
    s_domain: array[int]
    s_malicious: bytearray
    s_titles: dict[int, str]
    # reports
    r_stream: array[int]
    r_reporter: array[int]
    r_created: array[float]
    r_reason: bytearray
    domains: list[str]
    malicious_domains: frozenset[int]
    attackers: list[int] = field(default_factory=list)
    """Bot and compromised account indexes in the (seeded) order they (re)start streams."""
    acc_verified: bytearray = field(default_factory=bytearray)
    """1 for verified accounts (long-standing users, staff, and some taken-over ones)."""

    @property
    def account_count(self) -> int:
        """Number of accounts."""
        return len(self.kind)

    @property
    def stream_count(self) -> int:
        """Number of streams ever created."""
        return len(self.s_status)

    def account_name(self, index: int) -> str:
        """The display name (hostile for some bots)."""
        name = self.acc_names.get(index)
        if name is not None:
            return name
        if self.kind[index] == BOT:
            return f"user{(index * 7919 + self.config.seed) % 999_983:06x}"
        return f"{_ADJ[index % 10]}_{_NOUN[(index // 10) % 10]}{index % 997}"

    def stream_title(self, index: int) -> str:
        """The title (hostile for some attacker streams)."""
        title = self.s_titles.get(index)
        if title is not None:
            return title
        if self.s_malicious[index]:
            return _BOT_TITLES[(index * 31 + self.config.seed) % len(_BOT_TITLES)]
        game = _GAMES[index % len(_GAMES)]
        return f"{game} {_ACTIVITIES[(index // 7) % len(_ACTIVITIES)]} #{index % 500}"

    def report_text(self, index: int) -> str:
        """The reporter's free text (hostile for a few reports)."""
        mixed = (index * 2_654_435_761 + self.config.seed) % 1_000
        if mixed < 30:
            return hostile_payload(mixed)
        return _REPORT_TEXTS[self.r_reason[index]]


def _malicious_domains(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(_MAL_WORDS_A)}-{rng.choice(_MAL_WORDS_B)}.{rng.choice(_MAL_TLDS)}"
        if name not in names:
            names.append(name)
    return names


class _Builder:
    """Generates one world; split out so each step reads on its own."""

    def __init__(self, config: WorldConfig, now: float) -> None:
        self.config = config
        self.now = now
        self.rng = random.Random(config.seed)
        self.n_accounts = config.honest_accounts + config.bot_accounts

    def build(self) -> World:
        rng = self.rng
        config = self.config
        n = self.n_accounts
        kind = bytearray(n)
        bots = rng.sample(range(n), config.bot_accounts)
        for index in bots:
            kind[index] = BOT
        honest = [i for i in range(n) if not kind[i]]
        compromised = rng.sample(honest, config.compromised_accounts)
        for index in compromised:
            kind[index] = COMPROMISED
        domains = [*LEGIT_DOMAINS, *SHORTENER_DOMAINS, *_malicious_domains(rng, 30)]
        world = World(
            config=config,
            started_at=self.now,
            kind=kind,
            acc_created=array("d"),
            acc_frozen=bytearray(n),
            acc_reports=array("i", bytes(4 * n)),
            acc_device=array("i"),
            acc_ip=array("i"),
            acc_sessions=bytearray(n),
            acc_names={},
            device_sizes={},
            ip_sizes={},
            s_account=array("i"),
            s_created=array("d"),
            s_status=bytearray(),
            s_viewers=array("i"),
            s_score=array("d"),
            s_reports=array("i"),
            s_domain=array("i"),
            s_malicious=bytearray(),
            s_titles={},
            r_stream=array("i"),
            r_reporter=array("i"),
            r_created=array("d"),
            r_reason=bytearray(),
            domains=domains,
            malicious_domains=frozenset(range(len(domains) - 30, len(domains))),
        )
        self._accounts(world)
        self._streams(world, honest, compromised, bots)
        self._reports(world, honest)
        attackers = bots + compromised
        rng.shuffle(attackers)
        world.attackers = attackers
        world.acc_verified = self._verified(world, compromised)
        return world

    def _verified(self, world: World, compromised: list[int]) -> bytearray:
        """About 1% of honest accounts older than 180 days, a few staff accounts made this
        week, and 5% of the compromised ones (a verified account is worth taking over)."""
        rng = random.Random(self.config.seed * 7_919 + 3)  # its own draws: the rest stays
        kind, created = world.kind, world.acc_created
        old, new = self.now - VERIFIED_MIN_AGE, self.now - 3 * DAY
        elders = [i for i in range(len(kind)) if kind[i] == HONEST and created[i] < old]
        staff = [i for i in range(len(kind)) if kind[i] == HONEST and created[i] > new]
        verified = bytearray(len(kind))
        chosen = rng.sample(elders, len(elders) // 100)
        chosen += rng.sample(staff, min(STAFF_ACCOUNTS, len(staff)))
        chosen += rng.sample(compromised, math.ceil(len(compromised) * 0.05))
        for index in chosen:
            verified[index] = 1
        return verified

    def _accounts(self, world: World) -> None:
        rng, now, kind = self.rng, self.now, world.kind
        random_ = rng.random
        uniform = rng.uniform
        n = self.n_accounts
        bot_devices = max(1, self.config.bot_accounts // 55)
        bot_pools = max(1, self.config.bot_accounts // 140)
        # honest shared clusters scale with the population: cafés ~15 accounts a device,
        # carrier NAT ~250 accounts an address, campuses ~20
        cafes = max(1, n * 3 // 15_000)
        cgnat_pools = max(1, n // 1_000)
        campuses = max(1, n // 400)
        # cluster id spaces: [0, n) own device; then shared device clusters
        family_base, cafe_base, farm_base = n, n + n // 3, n + n // 3 + 1000
        proxy_base, cgnat_base, campus_base, residential = 0, n, 2 * n, 4 * n
        created = world.acc_created
        device = world.acc_device
        ip = world.acc_ip
        sessions = world.acc_sessions
        names = world.acc_names
        for index in range(n):
            k = kind[index]
            r = random_()
            if k == BOT:
                age = uniform(HOUR, 2 * DAY) if r < 0.85 else uniform(2 * DAY, 30 * DAY)
                dev = farm_base + int(random_() * bot_devices) if random_() < 0.9 else index
                addr = (
                    proxy_base + int(random_() * bot_pools)
                    if random_() < 0.7
                    else residential + int(random_() * n * 2)
                )
                sessions[index] = 1
                if random_() < 0.25:
                    names[index] = _payload(rng)
            else:
                if k == COMPROMISED:
                    age = uniform(180 * DAY, 6 * 365 * DAY)
                    # the attacker's login: a farm device and a proxy pool shared with bots
                    dev = farm_base + int(random_() * bot_devices)
                    addr = proxy_base + int(random_() * bot_pools)
                    sessions[index] = 2 + int(random_() * 3)
                else:
                    age = uniform(0, 3 * DAY) if r < 0.03 else uniform(3 * DAY, 6 * 365 * DAY)
                    d = random_()
                    if d < 0.02:
                        dev = family_base + index // 3
                    elif d < 0.023:
                        dev = cafe_base + int(random_() * cafes)
                    else:
                        dev = index
                    a = random_()
                    if a < 0.25:
                        addr = cgnat_base + int(random_() * cgnat_pools)
                    elif a < 0.30:
                        addr = campus_base + int(random_() * campuses)
                    else:
                        addr = residential + int(random_() * n * 2)
                    sessions[index] = 1 + int(random_() * 3)
                    if r > 0.995:
                        names[index] = _RTL_NAMES[index % len(_RTL_NAMES)]
            created.append(now - age)
            device.append(dev)
            ip.append(addr)
        world.device_sizes = dict(Counter(device))
        world.ip_sizes = dict(Counter(ip))
        # brigaded or controversial honest accounts
        for index in rng.sample(range(n), n // 100):
            if kind[index] == HONEST:
                world.acc_reports[index] += 1 + int(rng.expovariate(1 / 6))

    def _streams(
        self, world: World, honest: list[int], compromised: list[int], bots: list[int]
    ) -> None:
        rng, now = self.rng, self.now
        config = self.config
        compromised_set = set(compromised)
        streamers = rng.sample(
            [i for i in honest if i not in compromised_set], config.honest_streams
        )
        rows = [(i, False) for i in streamers]
        if not config.timed:  # a timed world is quiet until its attack starts
            rows += [(i, True) for i in bots[: int(len(bots) * config.initial_bot_live_fraction)]]
            rows += [(i, True) for i in compromised]
        rng.shuffle(rows)
        for account, malicious in rows:
            if malicious:
                add_malicious_stream(world, rng, account, now - rng.uniform(0, ATTACK_LEAD))
            else:
                add_honest_stream(world, rng, account, now - rng.uniform(60.0, 6 * HOUR))

    def _reports(self, world: World, honest: list[int]) -> None:
        rng = self.rng
        random_ = rng.random
        reasons = len(REPORT_REASONS)
        for stream in range(world.stream_count):
            count = world.s_reports[stream]
            if not count:
                continue
            start = world.s_created[stream]
            malicious = world.s_malicious[stream]
            for _ in range(count):
                world.r_stream.append(stream)
                world.r_reporter.append(honest[int(random_() * len(honest))])
                world.r_created.append(start + random_() * (self.now - start))
                world.r_reason.append(int(random_() * 3) if malicious else int(random_() * reasons))


def _payload(rng: random.Random) -> str:
    return hostile_payload(int(rng.random() * 1_000_000))


def add_honest_stream(
    world: World, rng: random.Random, account: int, created: float, *, fresh: bool = False
) -> int:
    """Append an honest stream for ``account``; ``fresh`` ones have no reports yet."""
    random_ = rng.random
    index = world.stream_count
    score = random_() ** 2 * 0.45 if random_() < 0.94 else rng.uniform(0.5, 0.95)
    r = random_()
    if fresh:
        reports = 0
    elif r < 0.90:
        reports = int(random_() * 2)
    elif r < 0.98:
        reports = 2 + int(random_() * 9)
    else:
        reports = 10 + int(random_() * 50)
    d = random_()
    if d < 0.35:
        domain = int(random_() * len(LEGIT_DOMAINS))
    elif d < 0.365:
        domain = len(LEGIT_DOMAINS) + int(random_() * len(SHORTENER_DOMAINS))
    elif d < 0.368:
        domain = min(world.malicious_domains) + int(random_() * len(world.malicious_domains))
    else:
        domain = -1
    _append_stream(world, account, created, min(int(rng.paretovariate(1.2) * 5), 200_000), score)
    world.s_reports.append(reports)
    world.s_domain.append(domain)
    world.s_malicious.append(0)
    world.acc_reports[account] += reports
    if world.kind[account] == HONEST and r > 0.999:
        world.s_titles[index] = _RTL_NAMES[index % len(_RTL_NAMES)] + " live"
    return index


def add_malicious_stream(
    world: World, rng: random.Random, account: int, created: float, *, fresh: bool = False
) -> int:
    """Append an attacker's stream for ``account``; ``fresh`` ones have no reports yet."""
    random_ = rng.random
    index = world.stream_count
    score = rng.uniform(0.6, 1.0) if random_() < 0.8 else rng.uniform(0.25, 0.6)
    quiet = fresh or random_() < 0.4  # new streams, and many old ones, have no reports yet
    reports = 0 if quiet else min(1 + int(rng.expovariate(1 / 8)), 200)
    d = random_()
    if d < 0.75:
        domain = min(world.malicious_domains) + int(random_() * len(world.malicious_domains))
    elif d < 0.90:
        domain = len(LEGIT_DOMAINS) + int(random_() * len(SHORTENER_DOMAINS))
    else:
        domain = -1
    base = 50 if fresh else 200
    _append_stream(world, account, created, min(int(rng.paretovariate(1.1) * base), 80_000), score)
    world.s_reports.append(reports)
    world.s_domain.append(domain)
    world.s_malicious.append(1)
    world.acc_reports[account] += reports
    if random_() < 0.3:
        world.s_titles[index] = _payload(rng)
    return index


def _append_stream(world: World, account: int, created: float, viewers: int, score: float) -> None:
    world.s_account.append(account)
    world.s_created.append(max(created, world.acc_created[account] + 60.0))
    world.s_status.append(LIVE)
    world.s_viewers.append(viewers)
    world.s_score.append(round(score, 3))


def generate_world(config: WorldConfig, *, now: float) -> World:
    """Generate the scenario's world as it is at ``now`` (epoch seconds of the injected clock)."""
    config.validate()
    return _Builder(config, now).build()
