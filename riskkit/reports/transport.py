"""How riskkit's kernels talk to their clients: IPC (Unix sockets in a private folder) where the platform has it.

IPC needs no port, is reachable only through the file system (a folder only this user can enter) and keeps
ipykernel's "running over TCP without encryption" warning away from users. Windows has no IPC transport for
ZeroMQ, so kernels use loopback TCP there.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

IPC = sys.platform != "win32"
PREFIX = "riskkit-kernel-"


def kernel_transport() -> dict[str, Any]:
    """KernelManager arguments: `transport="ipc"` with its sockets in a new private (0700) temp folder; none on
    Windows (TCP)."""
    if not IPC:
        return {}
    return {"transport": "ipc", "ip": str(Path(tempfile.mkdtemp(prefix=PREFIX)) / "kernel")}


def remove_transport(km: Any) -> None:
    """Remove the private socket folder `kernel_transport` made for this kernel manager (after its shutdown)."""
    folder = Path(km.ip).parent
    if km.transport == "ipc" and folder.name.startswith(PREFIX):
        shutil.rmtree(folder, ignore_errors=True)
