"""The HTTP stack against rude loopback peers: framing, dropped connections, proxies and TLS.

Every test talks real HTTP over loopback to a peer it starts itself (tests/peers.py): a
raw-socket server answering exact bytes, a forward proxy, and a TLS server whose certificate
comes from a CA made here with ``trustme``.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from ircli.errors import InvalidInput
from ircli.platform.client import PlatformClient, Reply, TransportFailure
from ircli.platform.loader import load_profile
from ircli.platform.proxies import proxy_for
from ircli.platform.render import PreparedRequest
from ircli.platform.tls import ssl_context
from tests.peers import ForwardProxy, RawServer, chunked, response, write_profile

FREEZE = PreparedRequest("POST", "/users/u1/freeze", {}, json={"reason": "bot"})


def profile_file(tmp_path: Path, base_url: str, tls: str = "") -> Path:
    settings = (
        "idempotency_header: Idempotency-Key\n"
        "limits: {retries: 2, backoff_base: 10ms, concurrency: 4, timeout: 5s}\n" + tls
    )
    return write_profile(tmp_path, base_url, settings=settings)


def send(
    base_url: str,
    request: PreparedRequest = FREEZE,
    *,
    tls: ssl.SSLContext | None = None,
    env: dict[str, str] | None = None,
    times: int = 1,
) -> list[Reply]:
    async def main() -> list[Reply]:
        async with PlatformClient(
            base_url,
            headers={"Authorization": "Bearer t0k3n"},
            timeout=5,
            connect_timeout=5,
            max_connections=1,
            idempotency_header="Idempotency-Key",
            tls=tls,
            proxy=proxy_for(base_url, env or {}),
        ) as client:
            return [await client.send(request, f"key-{i}", kind="action") for i in range(times)]

    return asyncio.run(main())


# -- framing -----------------------------------------------------------------------------------


def test_a_body_ended_by_closing_the_connection_is_read_whole() -> None:
    """HTTP/1.0 style: no Content-Length, the body ends when the server closes."""
    answer = b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"state":"frozen"}'
    with RawServer(lambda _: answer, keep_open=False).running() as peer:
        (reply,) = send(peer.url)
    assert reply.status == 200
    assert reply.body == {"state": "frozen"}


def test_a_chunked_body_is_joined() -> None:
    body = chunked(b'{"state":', b'"frozen",', b'"n":1}')
    answer = response(body=body, headers=("Transfer-Encoding: chunked",))
    with RawServer(lambda _: answer).running() as peer:
        replies = send(peer.url, times=3)
    assert [r.body for r in replies] == [{"state": "frozen", "n": 1}] * 3
    assert peer.connections == 1, "a chunked answer keeps the connection alive"


def test_a_dropped_keep_alive_connection_is_noticed() -> None:
    """The server promises keep-alive but closes after each answer: every request still gets
    its answer (on a new connection, or as a retryable protocol failure, never a hang)."""
    with RawServer(lambda _: response(), keep_open=False).running() as peer:
        outcomes: list[Any] = []

        async def main() -> None:
            async with PlatformClient(
                peer.url, headers={}, timeout=5, connect_timeout=5, max_connections=1,
                idempotency_header=None,
            ) as client:  # fmt: skip
                for _ in range(5):
                    try:
                        outcomes.append((await client.send(FREEZE, kind="action")).status)
                    except TransportFailure as exc:
                        outcomes.append(exc.kind)
                    await asyncio.sleep(0.05)

        asyncio.run(main())
    # The close is seen while the client is idle: each request takes a new connection.
    assert outcomes == [200] * 5
    assert peer.connections == 5


def test_what_goes_on_the_wire() -> None:
    """Method, encoded path, JSON body with its length, auth and idempotency key headers."""
    with RawServer(lambda _: response()).running() as peer:
        send(peer.url, PreparedRequest("POST", "/users/a%2Fb%20c/freeze", {"x": True}, json={}))
    head, _, body = peer.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /users/a%2Fb%20c/freeze?x=true HTTP/1.1"
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers["authorization"] == "Bearer t0k3n"
    assert headers["idempotency-key"] == "key-0"
    assert headers["content-type"] == "application/json"
    assert headers["content-length"] == "2"
    assert body == b"{}"


def test_an_answer_past_the_size_cap_is_not_read_to_the_end(monkeypatch: Any) -> None:
    import ircli.platform.client as client_module

    monkeypatch.setattr(client_module, "MAX_BYTES", 1000)
    big = b'{"pad":"' + b"x" * 5000 + b'"}'
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + big  # no length
    with RawServer(lambda _: answer, keep_open=False).running() as peer:
        (reply,) = send(peer.url)
    assert reply.status == 200
    assert reply.body is None, "over the cap: no JSON to use"
    assert reply.problem == f"the answer from {peer.url}/users/u1/freeze is larger than 1,000 bytes"


def test_an_answer_nested_too_deep_names_the_limit_and_the_url() -> None:
    deep = b"[" * 70 + b"]" * 70
    with RawServer(lambda _: response(body=deep)).running() as peer:
        (reply,) = send(peer.url)
    assert reply.body is None
    assert reply.problem == (
        f"the answer nests deeper than 64 levels (from {peer.url}/users/u1/freeze)"
    )


def test_garbage_is_a_protocol_failure() -> None:
    garbage = RawServer(lambda _: b"SSH-2.0-OpenSSH_9.6\r\n\r\n", keep_open=False)
    with garbage.running() as peer, pytest.raises(TransportFailure) as caught:
        send(peer.url)
    assert caught.value.kind == "protocol"
    assert caught.value.ambiguous


def test_a_refused_connection_names_host_and_port() -> None:
    with RawServer(lambda _: None).running() as peer:
        url = peer.url
    with pytest.raises(TransportFailure) as caught:
        send(url)
    assert caught.value.kind == "connect"
    assert f"127.0.0.1:{url.rsplit(':', 1)[1]}" in caught.value.detail


# -- proxies -----------------------------------------------------------------------------------


def test_http_proxy_from_the_environment() -> None:
    with RawServer(lambda _: response()).running() as peer, ForwardProxy().running() as proxy:
        (reply,) = send(peer.url, env={"HTTP_PROXY": proxy.url})
    assert reply.status == 200
    assert proxy.seen == [f"POST {peer.url}/users/u1/freeze HTTP/1.1"]
    assert len(peer.requests) == 1


def test_no_proxy_goes_direct() -> None:
    with RawServer(lambda _: response()).running() as peer, ForwardProxy().running() as proxy:
        (reply,) = send(peer.url, env={"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.1"})
    assert reply.status == 200
    assert proxy.seen == []


def test_a_proxy_that_is_down_is_a_connect_failure() -> None:
    with ForwardProxy().running() as proxy:
        gone = proxy.url
    with pytest.raises(TransportFailure) as caught:
        send("http://127.0.0.1:9", env={"HTTP_PROXY": gone})
    assert caught.value.kind == "connect"


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("http://api.example.org", {}, None),
        ("http://api.example.org", {"HTTP_PROXY": "http://p:3128"}, "http://p:3128"),
        ("https://api.example.org", {"HTTP_PROXY": "http://p:3128"}, None),
        ("https://api.example.org", {"HTTPS_PROXY": "http://p:3128"}, "http://p:3128"),
        ("https://api.example.org", {"ALL_PROXY": "http://p:3128"}, "http://p:3128"),
        ("http://h", {"HTTP_PROXY": "http://upper", "http_proxy": "http://lower"}, "http://lower"),
        ("http://api.example.org", {"HTTP_PROXY": "http://p", "NO_PROXY": "example.org"}, None),
        ("http://api.example.org", {"HTTP_PROXY": "http://p", "NO_PROXY": ".example.org"}, None),
        ("http://example.org", {"HTTP_PROXY": "http://p", "NO_PROXY": ".example.org"}, None),
        (
            "http://badexample.org",
            {"HTTP_PROXY": "http://p", "no_proxy": "example.org"},
            "http://p",
        ),
        ("http://10.1.2.3:8080", {"HTTP_PROXY": "http://p", "NO_PROXY": "10.0.0.0/8"}, None),
        (
            "http://10.1.2.3:8080",
            {"HTTP_PROXY": "http://p", "NO_PROXY": "10.1.2.3:9090"},
            "http://p",
        ),
        ("http://10.1.2.3:8080", {"HTTP_PROXY": "http://p", "NO_PROXY": "10.1.2.3:8080"}, None),
        ("http://[::1]:8080", {"HTTP_PROXY": "http://p", "NO_PROXY": "::1"}, None),
        ("http://h", {"HTTP_PROXY": "http://p", "NO_PROXY": " a , * "}, None),
    ],
)
def test_which_proxy(url: str, env: dict[str, str], expected: str | None) -> None:
    assert proxy_for(url, env) == expected


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_peer(ca: trustme.CA) -> Iterator[RawServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with RawServer(lambda _: response(), tls=context).running() as peer:
        yield peer


def private(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def test_tls_is_verified_by_default(tmp_path: Path, tls_peer: RawServer) -> None:
    profile = load_profile(profile_file(tmp_path, tls_peer.url), env={})
    with pytest.raises(TransportFailure) as caught:
        send(tls_peer.url, tls=ssl_context(profile, {}))
    assert caught.value.kind == "connect"
    assert "certificate" in caught.value.detail
    assert tls_peer.requests == []


def test_a_ca_bundle_next_to_the_profile(
    tmp_path: Path, tls_peer: RawServer, ca: trustme.CA
) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "lab-ca.pem"))
    tls = "tls: {ca_bundle: lab-ca.pem}\n"
    profile = load_profile(profile_file(tmp_path, tls_peer.url, tls), env={})
    (reply,) = send(tls_peer.url, tls=ssl_context(profile, {}))
    assert reply.status == 200


def test_verify_off(tmp_path: Path, tls_peer: RawServer) -> None:
    profile = load_profile(profile_file(tmp_path, tls_peer.url, "tls: {verify: false}\n"), {})
    (reply,) = send(tls_peer.url, tls=ssl_context(profile, {}))
    assert reply.status == 200


def test_mutual_tls(tmp_path: Path, ca: trustme.CA) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    client = ca.issue_cert("ircli@example.org")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    private(tmp_path / "client.key", client.private_key_pem.bytes())
    with RawServer(lambda _: response(), tls=context).running() as peer:
        without = load_profile(profile_file(tmp_path, peer.url, "tls: {ca_bundle: ca.pem}\n"), {})
        with pytest.raises(TransportFailure):
            send(peer.url, tls=ssl_context(without, {}))
        tls = "tls: {ca_bundle: ca.pem, client_cert: client.pem, client_key: client.key}\n"
        profile = load_profile(profile_file(tmp_path, peer.url, tls), env={})
        (reply,) = send(peer.url, tls=ssl_context(profile, {}))
    assert reply.status == 200


def test_https_through_a_connect_proxy(tmp_path: Path, tls_peer: RawServer, ca: trustme.CA) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    profile = load_profile(profile_file(tmp_path, tls_peer.url, "tls: {ca_bundle: ca.pem}\n"), {})
    with ForwardProxy().running() as proxy:
        env = {"HTTPS_PROXY": proxy.url}
        (reply,) = send(tls_peer.url, tls=ssl_context(profile, {}), env=env)
    assert reply.status == 200
    assert proxy.seen == [f"CONNECT 127.0.0.1:{tls_peer.port} HTTP/1.1"]


KEY_MATERIAL = b"-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("files", "tls", "message"),
    [
        ({}, "{ca_bundle: missing.pem}", "cannot use the ca_bundle"),
        ({"ca.pem": b"not a certificate"}, "{ca_bundle: ca.pem}", "cannot use the ca_bundle"),
        (
            {"c.pem": KEY_MATERIAL, "c.key": KEY_MATERIAL},
            "{client_cert: c.pem, client_key: c.key}",
            "cannot use the client certificate",
        ),
    ],
)
def test_unusable_tls_files_are_one_sentence_without_key_material(
    tmp_path: Path, files: dict[str, bytes], tls: str, message: str
) -> None:
    for name, data in files.items():
        private(tmp_path / name, data)
    profile = load_profile(profile_file(tmp_path, "https://127.0.0.1:9", f"tls: {tls}\n"), {})
    with pytest.raises(InvalidInput) as caught:
        ssl_context(profile, {})
    text = str(caught.value)
    assert message in text
    assert "peer.yaml:" in text, "names the profile's tls line"
    assert "TOPSECRET" not in text
    assert "TOPSECRET" not in repr(caught.value)


def test_a_client_key_others_can_read_is_refused(tmp_path: Path, ca: trustme.CA) -> None:
    client = ca.issue_cert("ircli@example.org")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "c.pem"))
    key = private(tmp_path / "c.key", client.private_key_pem.bytes())
    key.chmod(0o644)
    tls = "tls: {client_cert: c.pem, client_key: c.key}\n"
    profile = load_profile(profile_file(tmp_path, "https://127.0.0.1:9", tls), {})
    with pytest.raises(InvalidInput, match=r"readable by others \(mode 0644\)"):
        ssl_context(profile, {})


def test_tls_settings_that_contradict_are_refused_where_written(tmp_path: Path) -> None:
    tls = "tls:\n  verify: false\n  ca_bundle: ca.pem\n"
    with pytest.raises(
        InvalidInput, match=r"peer\.yaml:8:\d+: tls -> ca_bundle: a ca_bundle with verify: false"
    ):
        load_profile(profile_file(tmp_path, "https://127.0.0.1:9", tls), {})
    tls = "tls: {client_key: c.key}\n"
    with pytest.raises(InvalidInput, match="a client_key needs its client_cert"):
        load_profile(profile_file(tmp_path, "https://127.0.0.1:9", tls), {})


def test_plain_http_needs_no_tls_context(tmp_path: Path) -> None:
    profile = load_profile(profile_file(tmp_path, "http://127.0.0.1:9", ""), {})
    assert ssl_context(profile, {}) is None


# -- whole runs, through the CLI ----------------------------------------------------------------


def test_a_run_against_close_delimited_answers_completes(cli: Any, tmp_path: Path) -> None:
    """The report that started this: every 200 ended by a close was retried, done=0."""
    answer = b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"state":"frozen"}'
    with RawServer(lambda _: answer, keep_open=False).running() as peer:
        profile = str(profile_file(tmp_path, peer.url))
        result = cli("--json", "accounts", "freeze", "--id", "u1", "--id", "u2", "--id", "u3",
                     "--profile", profile, "--yes")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "completed"
    assert summary["counts"]["done"] == 3
    assert summary["retries"] == 0
    assert sum(r.startswith(b"POST ") for r in peer.requests) == 3


def test_a_run_and_its_listing_go_through_the_proxy(cli: Any, tmp_path: Path) -> None:
    def answer(request: bytes) -> bytes:
        if request.startswith(b"GET /users"):
            return response(body=b'[{"id": "u1"}, {"id": "u2"}]')
        return response()

    with RawServer(answer).running() as peer, ForwardProxy().running() as proxy:
        path = profile_file(tmp_path, peer.url)
        result = cli("accounts", "freeze", "--where", "q=x", "--profile", str(path), "--yes",
                     env={"HTTP_PROXY": proxy.url})  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert proxy.seen[0] == f"GET {peer.url}/users?q=x HTTP/1.1"  # --where
    assert proxy.seen[1] == f"GET {peer.url}/users HTTP/1.1"  # the preflight read
    assert sorted(proxy.seen[2:]) == [
        f"POST {peer.url}/users/u1/freeze HTTP/1.1",
        f"POST {peer.url}/users/u2/freeze HTTP/1.1",
    ]


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n[]",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[]",
    ],
    ids=["not-http", "bad-length", "bad-chunk", "cut-short"],
)
def test_a_malformed_listing_answer_is_a_clean_error(
    cli: Any, tmp_path: Path, answer: bytes
) -> None:
    with RawServer(lambda _: answer, keep_open=False).running() as peer:
        path = write_profile(tmp_path, peer.url, settings="limits: {retries: 0}\n")
        result = cli("accounts", "freeze", "--where", "q=x", "--profile", str(path), "--yes")
    assert result.exit_code == 1
    assert f"reading the listing 'users' at {peer.url}/users failed after 1 attempt:" in (
        result.stderr
    )
    assert "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3


def test_an_encrypted_client_key_is_refused_where_written(tmp_path: Path, ca: trustme.CA) -> None:
    from cryptography.hazmat.primitives import serialization

    client = ca.issue_cert("ircli@example.org")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "c.pem"))
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), password=None)
    locked = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    private(tmp_path / "c.key", locked)
    tls = "tls: {client_cert: c.pem, client_key: c.key}\n"
    profile = load_profile(profile_file(tmp_path, "https://127.0.0.1:9", tls), {})
    with pytest.raises(
        InvalidInput, match=r"peer\.yaml:\d+:\d+: the client key .*c\.key is encrypted"
    ):
        ssl_context(profile, {})


def test_an_empty_post_carries_a_zero_length_and_no_type() -> None:
    with RawServer(lambda _: response()).running() as peer:
        send(peer.url, PreparedRequest("POST", "/users/u1/freeze", {}))
    head = peer.requests[0].partition(b"\r\n\r\n")[0].decode().lower()
    assert "content-length: 0" in head
    assert "content-type" not in head
