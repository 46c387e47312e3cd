"""`riskkit capture`'s kernel manager: a burst of widget messages (opening a school) reaches a server that is busy
meanwhile, without one message dropped; Voilà's default manager, on the same IPC transport, drops them."""

from __future__ import annotations

import asyncio
import time

import zmq
from traitlets.config import Config
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from riskkit.capture.app import KERNEL_MANAGER, voila_command
from riskkit.capture.kernels import UnboundedIOPubKernelManager

WIDGETS = 1500  # each an HTML widget with its Layout and Style: 4,500 comm_open messages, like opening a school


def comm_opens_received(manager_class: type[AsyncMappingKernelManager], tmp_path) -> int:
    """Start a kernel over IPC, make WIDGETS widgets while the server reads nothing for 5 s, count what arrives."""

    async def run() -> int:
        config = Config({"KernelManager": {"transport": "ipc", "ip": str(tmp_path / "kernel")}})  # as the app's
        manager = manager_class(config=config, connection_dir=str(tmp_path))
        kernel_id = await manager.start_kernel(kernel_name="python3")
        kernel = manager.get_kernel(kernel_id)
        try:
            client = kernel.client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)
            iopub = kernel.connect_iopub().socket  # as the server connects a browser's websocket
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
            iopub.close()
            return opened
        finally:
            await manager.shutdown_kernel(kernel_id, now=True)

    return asyncio.run(run())


def test_the_app_queues_every_message_of_a_burst(tmp_path):
    assert f"--VoilaConfiguration.multi_kernel_manager_class={KERNEL_MANAGER}" in voila_command(
        tmp_path / "capture.ipynb", 8866, 600, tmp_path)
    assert KERNEL_MANAGER == f"{UnboundedIOPubKernelManager.__module__}.{UnboundedIOPubKernelManager.__name__}"
    assert comm_opens_received(UnboundedIOPubKernelManager, tmp_path) == 3 * WIDGETS


def test_the_default_manager_drops_messages_of_the_same_burst(tmp_path):
    """Why the app's manager exists; if this ever passes with every message, the default has changed."""
    assert comm_opens_received(AsyncMappingKernelManager, tmp_path) < 3 * WIDGETS
