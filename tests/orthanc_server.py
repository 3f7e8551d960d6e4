"""A real PACS for the tests: Debian's Orthanc on free loopback ports with a temporary
storage folder, knowing our AE title (echo, find, get, move, store allowed). Tests skip,
naming the package, where Orthanc is not installed. (No tests here.)"""

from __future__ import annotations

import ctypes
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dsaviewer.io.pacs import PacsNode

AET = "ORTHANC"
OUR_AET = "DSAVIEWER"
STARTUP_TIMEOUT_S = 30.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def orthanc_binary() -> str:
    found = shutil.which("Orthanc") or next(
        (str(path) for path in (Path("/usr/sbin/Orthanc"), Path("/usr/bin/Orthanc"))
         if path.is_file()), None)
    if found is None:
        pytest.skip("Orthanc not found: install the Debian package orthanc")
    return found


def dcmtk_binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not found: install the Debian package dcmtk")
    return found


class OrthancServer:
    """One Orthanc process; :meth:`stop` always ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.http_port, self.dicom_port = _free_ports(2)
        self.log = root / "orthanc.log"
        storage = root / "storage"
        storage.mkdir(parents=True)
        config = {
            "Name": "dsaviewer-tests",
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "StorageCompression": False,
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": AET,
            "DicomCheckCalledAet": True,
            "DicomCheckModalityHost": False,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            # DICOMweb (QIDO-RS, WADO-RS, STOW-RS) when the orthanc-dicomweb package is there.
            "Plugins": [str(DICOMWEB_PLUGIN)] if DICOMWEB_PLUGIN.is_file() else [],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
            "DicomModalities": {
                "dsaviewer": {
                    "AET": OUR_AET, "Host": "127.0.0.1", "Port": 1,
                    "AllowEcho": True, "AllowFind": True, "AllowGet": True,
                    "AllowMove": True, "AllowStore": True,
                },
            },
            "DicomAlwaysAllowEcho": False,
            "DicomAlwaysAllowStore": False,
        }
        (root / "orthanc.json").write_text(json.dumps(config, indent=1))
        self.process: subprocess.Popen | None = None

    def start(self) -> OrthancServer:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [orthanc_binary(), str(self.root / "orthanc.json")],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited at start-up: {self._log_tail()}")
            if self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Orthanc did not start in {STARTUP_TIMEOUT_S} s: {self._log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """Die at once, as a crashing PACS does: open associations drop."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def node(self, calling_aet: str = OUR_AET, called_aet: str = AET) -> PacsNode:
        return PacsNode("127.0.0.1", self.dicom_port, called_aet, calling_aet, timeout_s=20)

    def web_node(self):  # -> WebNode; imported here so tests without DICOMweb need no client
        from dsaviewer.io.dicomweb import WebNode

        if not DICOMWEB_PLUGIN.is_file():
            pytest.skip(f"{DICOMWEB_PLUGIN} not found: install the Debian package orthanc-dicomweb")
        return WebNode(f"http://127.0.0.1:{self.http_port}/dicom-web", timeout_s=20)

    def rest(self, path: str) -> object:
        url = f"http://127.0.0.1:{self.http_port}{path}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    def _answers(self) -> bool:
        try:
            self.rest("/system")
        except (OSError, urllib.error.URLError, ValueError):
            return False
        # The DICOM port opens after the REST server on some builds; wait for both.
        with socket.socket() as probe:
            probe.settimeout(0.5)
            return probe.connect_ex(("127.0.0.1", self.dicom_port)) == 0

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else "(no log)"


def _die_with_parent() -> None:
    """In the child before exec: the kernel kills Orthanc when the test process dies, even
    when pytest itself is killed and no fixture teardown runs."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    return _free_ports(1)[0]


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    server = OrthancServer(tmp_path_factory.mktemp("orthanc"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def own_orthanc(tmp_path):
    """An Orthanc of the test's own, for tests that kill it."""
    server = OrthancServer(tmp_path / "orthanc")
    try:
        yield server.start()
    finally:
        server.stop()
