"""The kernel manager of `riskkit capture`: a browser may send its kernel widget messages only (no code to run), and
kernel messages are not dropped on the server's side of their way.

Opening a school sends a burst of a few thousand widget messages. ZeroMQ keeps at most 1,000 messages queued per
socket and silently drops the rest while the server is busy; over IPC (which the app uses, see reports.transport)
there is no operating-system buffer behind that queue, and a dropped `comm_open` leaves the page with "widget model
not found" and a form that never appears. The server's IOPub sockets therefore queue without a limit (ZMQ_RCVHWM 0):
the burst waits in the server's memory, a few megabytes, until the browser has taken it. The kernel's own send
queue (1,000 messages) remains, so part of a burst can still be lost (runs of tests/test_capture_kernels.py: 4,376 to
4,500 of 4,500 arrived, against about 2,000 with Voilà's default): fewer widgets per school is the next step.
"""

from __future__ import annotations

import zmq
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager


# What the page's widgets send; an execute request (code) from a browser is dropped by the server with a warning.
WIDGET_MESSAGES = ["comm_open", "comm_msg", "comm_close", "comm_info_request", "kernel_info_request"]


class CaptureKernelManager(AsyncMappingKernelManager):
    """Voilà's default kernel manager, whose sockets to the kernels queue every message they receive and whose
    kernels take only widget messages from a browser (Voilà runs the notebook itself, not through the browser)."""

    def __init__(self, **kwargs: object):
        super().__init__(**kwargs)
        self.allowed_message_types = WIDGET_MESSAGES
        self.context.setsockopt(zmq.RCVHWM, 0)  # the default of every socket made from it later, IOPub included
