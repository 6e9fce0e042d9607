"""The ``protected:`` block of profiles and ``ircli.yaml``: its shape, located errors, and
which targets a resolved set holds back."""

from __future__ import annotations

import asyncio
import hashlib
import textwrap
from pathlib import Path

import pytest

from ircli.errors import InvalidInput
from ircli.platform.loader import load_profile_text
from ircli.platform.model import Profile
from ircli.platform.protected import (
    ProtectedSet,
    ProtectionSource,
    read_config_protection,
    resolve_protected,
)

HEAD = """\
profile: 1
name: demo
base_url: https://admin.example
listings:
  accounts: {path: /accounts, filters: [status, verified], items: items}
  streams: {path: /streams, items: items}
  users: {path: /users, items: items}
actions:
  accounts.freeze:
    target: accounts
    request: {method: POST, path: "/accounts/{target}/freeze"}
    idempotent: true
"""


def load(protected: str) -> Profile:
    return load_profile_text(HEAD + textwrap.dedent(protected), "demo.yaml")


def test_ids_listings_and_owned_objects_are_read() -> None:
    profile = load(
        """\
        protected:
          accounts:
            ids: [acc_1, acc_2]
            listings:
              - {listing: accounts, filters: {verified: true, status: active}}
            owned: {streams: account_id}
        """
    )
    assert profile.protected is not None
    accounts = profile.protected.accounts
    assert accounts.ids == ("acc_1", "acc_2")
    assert accounts.target is None  # the default listing, accounts
    # Written plainly, a boolean is sent as its text, as a playbook query sends it.
    assert dict(accounts.listings[0].filters) == {"verified": "true", "status": "active"}
    assert str(accounts.listings[0].location) == "demo.yaml:17:9"
    assert dict(accounts.owned) == {"streams": "account_id"}


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "protected:\n  accounts:\n    listings:\n      - {listing: acounts}\n",
            "demo.yaml:16:19: protected -> accounts -> listings -> 0 -> listing: the profile has "
            "no listing 'acounts' (did you mean 'accounts'?); its listings: accounts, streams, "
            "users.",
        ),
        (
            "protected:\n  accounts:\n    listings:\n"
            "      - {listing: accounts, filters: {verifed: 'true'}}\n",
            "demo.yaml:16:39: protected -> accounts -> listings -> 0 -> filters -> verifed: the "
            "listing 'accounts' has no filter 'verifed' (did you mean 'verified'?); its filters: "
            "status, verified.",
        ),
        (
            "protected:\n  accounts:\n    listings:\n"
            "      - {listing: accounts, filters: {status: [active]}}\n",
            "demo.yaml:16:47: protected -> accounts -> listings -> 0 -> filters -> status: a "
            "filter value must be a string, number or boolean.",
        ),
        (
            "protected:\n  accounts:\n    ids: [acc_1, '..']\n",
            "demo.yaml:15:18: protected -> accounts -> ids -> 1: '..' cannot name an account",
        ),
        (
            "protected:\n  accounts:\n    target: acounts\n",
            "demo.yaml:15:13: protected -> accounts -> target: the profile has no listing "
            "'acounts' (did you mean 'accounts'?)",
        ),
        (
            "protected:\n  accounts:\n    owned: {accounts: id}\n",
            "demo.yaml:15:13: protected -> accounts -> owned -> accounts: 'accounts' is the "
            "accounts listing itself",
        ),
        (
            # No playbook, and no profile, can switch protection off.
            "protected:\n  accounts:\n    override_protected: true\n",
            "demo.yaml:15:5: protected -> accounts -> override_protected: unknown key.",
        ),
        (
            "protected:\n  acounts: {ids: [acc_1]}\n",
            "demo.yaml:14:3: protected -> acounts: unknown key (did you mean 'accounts'?).",
        ),
    ],
)
def test_a_bad_block_is_one_located_sentence(block: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        load(block)
    assert raised.value.message.startswith(message), raised.value.message


def test_a_profile_without_an_accounts_listing_names_its_own() -> None:
    text = HEAD.replace("  accounts: {path", "  members: {path").replace(
        "target: accounts", "target: members"
    )
    block = "protected:\n  accounts:\n    ids: [m_1]\n"
    with pytest.raises(InvalidInput) as raised:
        load_profile_text(text + block, "demo.yaml")
    assert raised.value.message.startswith(
        "demo.yaml:14:3: protected -> accounts: the profile has no listing 'accounts'"
    )
    assert raised.value.hint == "Name the listing of its accounts with target: LISTING."
    named = load_profile_text(text + block + "    target: members\n", "demo.yaml")
    assert named.protected is not None
    assert named.protected.accounts.target == "members"


def test_the_config_block_is_checked_against_the_profile(tmp_path: Path) -> None:
    profile = load("")
    config = tmp_path / "ircli.yaml"
    config.write_text(
        "operator: dana\nprotected:\n  accounts:\n    listings:\n      - {listing: x}\n"
    )
    with pytest.raises(InvalidInput) as raised:
        read_config_protection(config, profile)
    assert raised.value.message.startswith(
        f"{config}:5:19: protected -> accounts -> listings -> 0 -> listing: the profile has no "
        "listing 'x'"
    )
    config.write_text("protected:\n  accounts: {ids: [acc_9]}\n")
    found = read_config_protection(config, profile)
    assert found is not None
    assert found.accounts.ids == ("acc_9",)
    config.write_text("operator: dana\n")
    assert read_config_protection(config, profile) is None


def _resolved(profile: Profile, config_text: str | None, tmp_path: Path) -> ProtectedSet:
    sources = []
    if profile.protected is not None:
        sources.append(ProtectionSource("profile", Path("demo.yaml"), profile.protected))
    if config_text is not None:
        config = tmp_path / "ircli.yaml"
        config.write_text(config_text)
        found = read_config_protection(config, profile)
        assert found is not None
        sources.append(ProtectionSource("config", config, found))
    return asyncio.run(resolve_protected(profile, sources, None))


def test_ids_of_profile_and_config_are_united_and_recorded(tmp_path: Path) -> None:
    profile = load("protected:\n  accounts:\n    ids: [acc_1]\n    owned: {streams: account_id}\n")
    protected = _resolved(profile, "protected:\n  accounts: {ids: [acc_2, acc_1]}\n", tmp_path)
    assert protected.ids == {"acc_1", "acc_2"}
    record = protected.record()
    assert record["ids"] == 2
    assert record["sha256"] == hashlib.sha256(b"acc_1\nacc_2").hexdigest()
    assert [(s["from"], s["ids"]) for s in record["sources"]] == [("profile", 1), ("config", 2)]
    assert record["override_protected"] is False
    # A config file cannot point protection at another listing than the profile's.
    with pytest.raises(InvalidInput, match=r"ircli.yaml:2:13: protected -> accounts: the profile"):
        _resolved(profile, "protected:\n  accounts: {target: users, ids: [u_1]}\n", tmp_path)


def test_held_targets_accounts_and_the_objects_of_protected_accounts(tmp_path: Path) -> None:
    profile = load("protected:\n  accounts:\n    ids: [acc_1]\n    owned: {streams: account_id}\n")
    protected = _resolved(profile, None, tmp_path)
    assert protected.held("accounts", ["acc_0", "acc_1", "acc_2"]) == ["acc_1"]
    owners = {"str_1": "acc_1", "str_2": "acc_2"}
    assert protected.held("streams", ["str_1", "str_2", "str_3"], owners) == ["str_1"]
    # A stream no listing read of the run showed: its account is unknown, so it is sent.
    assert protected.held("streams", ["str_1"]) == []
    assert protected.held("users", ["acc_1"]) == []  # not the protected listing
    lifted = protected.overridden("dana", "staff account taken over")
    assert lifted.held("accounts", ["acc_1"]) == []
    assert lifted.record()["override_protected"] is True
    assert (lifted.record()["operator"], lifted.record()["override_reason"]) == (
        "dana",
        "staff account taken over",
    )
    assert ProtectedSet(exempt="rollback").held("accounts", ["acc_1"]) == []


def test_a_listing_is_not_read_for_a_run_that_cannot_touch_an_account(tmp_path: Path) -> None:
    profile = load(
        "protected:\n  accounts:\n    listings: [{listing: accounts, filters: {verified: x}}]\n"
    )
    sources = [ProtectionSource("profile", Path("demo.yaml"), profile.protected)]  # type: ignore[arg-type]
    # No client: reading would fail; a run on users never needs the accounts listing.
    flags = asyncio.run(resolve_protected(profile, sources, None, kind="users"))
    assert flags.applies is False
    assert flags.record()["applies"] is False
    with pytest.raises(Exception, match="no connection to read it"):
        asyncio.run(resolve_protected(profile, sources, None, kind="accounts"))
