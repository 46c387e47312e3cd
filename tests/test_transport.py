"""Kernels talk over IPC where the platform has it, and no kernel or trust warning reaches the user of
`riskkit report`; the Voilà command line carries no secret."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from riskkit.capture.app import token_file, voila_command
from riskkit.reports.render import ReportRenderer
from riskkit.reports.transport import IPC

from conftest import SAMPLE, TODAY

RISKKIT = Path(sys.executable).parent / "riskkit"
WARNINGS = ("without encryption", "not trusted", "WARNING")


@pytest.mark.skipif(not IPC, reason="Windows has no IPC transport; kernels use loopback TCP there")
def test_the_warm_report_kernel_uses_ipc_in_a_private_folder():
    renderer = ReportRenderer(formats=["html"])
    try:
        connection = json.loads(Path(renderer._km.connection_file).read_text())
        folder = Path(connection["ip"]).parent
        assert connection["transport"] == "ipc"
        assert folder.stat().st_mode & 0o077 == 0  # only this user can reach the sockets
    finally:
        renderer.close()
    assert not folder.exists()


def test_riskkit_report_prints_no_kernel_or_trust_warning(tmp_path):
    result = subprocess.run([str(RISKKIT), "report", str(SAMPLE), "gs-kleeblatt", "--format", "html", "--out",
                             str(tmp_path), "--today", TODAY.isoformat()], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gs-kleeblatt.html").is_file()
    assert not [w for w in WARNINGS if w in result.stderr], result.stderr


def test_the_voila_command_line_holds_no_token_and_the_token_file_is_private(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    token = "s3cret-token-value"
    path = token_file(private, token)
    command = voila_command(Path("capture.ipynb"), 8866, 600, private)
    assert not [part for part in command if token in part or part.lower().startswith("--voila.token")]
    assert "--Voila.auto_token=True" in command
    assert path.read_text() == token and path.stat().st_mode & 0o777 == 0o600
    assert ("--KernelManager.transport=ipc" in command) == IPC
