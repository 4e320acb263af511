"""TLS with real processes: a service serving https, a NATS server requiring TLS, the local
CA ``guificloud dev --tls`` makes; clients trusting the CA get through, others do not."""

from __future__ import annotations

import socket
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest
from nats.errors import NoServersError

from guificloud.bus.connection import Bus
from guificloud.devservers.local_ca import ensure_local_ca
from guificloud.devservers.nats import NatsServer
from guificloud.devservers.ports import free_port
from guificloud.settings import ServiceSettings
from guificloud.testing.authority import ADMIN_TOKEN
from guificloud.testing.processes import ServiceProcess
from guificloud.tls import TlsFiles, client_context

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_local_ca(tmp_path_factory.mktemp("tls") / "tls")


@pytest.fixture(scope="module")
def tls_nats(tls: TlsFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    root = tmp_path_factory.mktemp("tls-nats")
    server = NatsServer(root / "store", port=free_port(), tls=tls)
    server.start(log_file=root / "nats.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.unit
def test_the_local_ca_is_made_once_with_private_keys(tmp_path: Path) -> None:
    files = ensure_local_ca(tmp_path / "tls")
    again = ensure_local_ca(tmp_path / "tls")
    assert again == files
    assert files.cert.read_bytes() == again.cert.read_bytes(), "kept, not made again"
    for key in (files.key, tmp_path / "tls" / "ca-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    context = client_context(files.ca)
    context.load_cert_chain(files.cert, files.key)  # the key is the certificate's


@pytest.mark.unit
def test_a_service_with_a_certificate_says_https(tls: TlsFiles) -> None:
    settings = ServiceSettings(
        environment="test", port=8443, tls_cert=tls.cert, tls_key=tls.key, tls_ca=tls.ca
    )
    assert settings.base_url == "https://127.0.0.1:8443"
    assert ServiceSettings(environment="test", port=80).base_url == "http://127.0.0.1:80"
    with pytest.raises(ValueError, match="go together"):
        ServiceSettings(environment="test", tls_cert=tls.cert)


async def test_the_bus_connects_to_nats_over_tls_trusting_the_ca(
    tls: TlsFiles, tls_nats: NatsServer
) -> None:
    assert tls_nats.url.startswith("tls://")
    bus = await Bus.connect(tls_nats.url, name="tls-test", ca=tls.ca, max_reconnect_attempts=0)
    try:
        sub = await bus.nc.subscribe("tls.check")
        await bus.nc.publish("tls.check", b"over tls")
        assert (await sub.next_msg(timeout=5)).data == b"over tls"
        assert bus.nc._transport is not None
        assert bus.nc._transport._io_writer.get_extra_info("ssl_object") is not None
    finally:
        await bus.close()


async def test_nats_with_tls_refuses_plain_and_untrusting_clients(
    tls: TlsFiles, tls_nats: NatsServer
) -> None:
    with socket.create_connection((tls_nats.host, tls_nats.port), timeout=5) as plain:
        info = plain.recv(4096)
        assert b'"tls_required":true' in info
        plain.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
        answer = plain.recv(4096)  # the server expected a TLS handshake: it hangs up
    assert answer == b"" or answer.startswith(b"-ERR"), answer
    with pytest.raises((NoServersError, ssl.SSLError, OSError)):
        # the system's CAs do not know the local CA
        await nats.connect(
            tls_nats.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=3
        )


def test_a_service_with_a_certificate_serves_https(
    tls: TlsFiles, tls_nats: NatsServer, database_url: str, tmp_path: Path
) -> None:
    process = ServiceProcess(
        "guificloud_registry",
        log_dir=tmp_path,
        env={
            "GUIFICLOUD_NATS_URL": tls_nats.url,
            "GUIFICLOUD_DATABASE_URL": database_url,
            "GUIFICLOUD_ADMIN_TOKEN": ADMIN_TOKEN,
            "GUIFICLOUD_TLS_CERT": str(tls.cert),
            "GUIFICLOUD_TLS_KEY": str(tls.key),
            "GUIFICLOUD_TLS_CA": str(tls.ca),
        },
    )
    process.start()
    try:
        assert process.url.startswith("https://")
        ready = httpx.get(f"{process.url}/readyz", verify=client_context(tls.ca), timeout=5)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["nats"] is True
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{process.url}/readyz", timeout=5)  # the system's CAs only
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{process.port}/readyz", timeout=5)
    finally:
        process.stop()
