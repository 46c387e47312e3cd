"""`riskkit capture`'s kernel manager: a burst of widget messages (opening a school) reaches a server that is busy
meanwhile; Voilà's default manager, on the same IPC transport, drops most of it."""

from __future__ import annotations

import asyncio
import time

import zmq
from traitlets.config import Config
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from riskkit.capture.app import KERNEL_MANAGER, voila_command
from riskkit.capture.kernels import CaptureKernelManager

WIDGETS = 1500  # each an HTML widget with its Layout and Style: 4,500 comm_open messages, like opening a school


def comm_opens_received(manager_class: type[AsyncMappingKernelManager], tmp_path) -> int:
    """Start a kernel over IPC, make WIDGETS widgets while the server reads nothing for 5 s, count what arrives."""

    tmp_path.mkdir(parents=True, exist_ok=True)

    async def run() -> int:
        config = Config({"KernelManager": {"transport": "ipc", "ip": str(tmp_path / "kernel")}})  # as the app's
        manager = manager_class(config=config, connection_dir=str(tmp_path))
        kernel_id = await manager.start_kernel(kernel_name="python3")
        kernel = manager.get_kernel(kernel_id)
        try:
            client = kernel.client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)
            stream = kernel.connect_iopub()  # as the server connects a browser's websocket
            iopub = stream.socket
            await asyncio.sleep(1)
            request = client.execute(f"import ipywidgets as w; xs = [w.HTML('x') for _ in range({WIDGETS})]")
            while (reply := await client.get_shell_msg(timeout=300))["parent_header"].get("msg_id") != request:
                pass  # the shell channel drops nothing: its reply says the kernel has sent every message
            assert reply["content"]["status"] == "ok"
            time.sleep(5)  # the server is busy elsewhere
            opened = 0
            while iopub.poll(3000):
                identities, message = kernel.session.feed_identities(iopub.recv_multipart())
                opened += kernel.session.deserialize(message)["msg_type"] == "comm_open"
            client.stop_channels()
            stream.close()
            return opened
        finally:
            await manager.shutdown_kernel(kernel_id, now=True)

    return asyncio.run(run())


def test_the_app_queues_the_burst_that_the_default_manager_drops(tmp_path):
    """The server keeps all it gets; the kernel's own send queue of 1,000 can still overflow (runs here: 4,500, 4,500,
    4,394 and, under CI load, 4,376 and 3,996 of 4,500), so the bound is 80 % and 1.5 times the default's. Voilà's
    default manager keeps about 2,000 (1,998 in each run)."""
    assert f"--VoilaConfiguration.multi_kernel_manager_class={KERNEL_MANAGER}" in voila_command(
        tmp_path / "capture.ipynb", 8866, 600, tmp_path)
    assert KERNEL_MANAGER == f"{CaptureKernelManager.__module__}.{CaptureKernelManager.__name__}"
    ours = comm_opens_received(CaptureKernelManager, tmp_path / "ours")
    default = comm_opens_received(AsyncMappingKernelManager, tmp_path / "default")
    print(f"comm_open received of {3 * WIDGETS}: riskkit's manager {ours}, Voilà's default {default}")
    assert ours >= 0.8 * 3 * WIDGETS and ours >= 1.5 * default and default < 0.6 * 3 * WIDGETS
