"""The CLI's side of the command service: hand this command to the warm process when one is listening.

`smarketing service` (smarketing.core.command_service) keeps a process that has loaded Django, the analytics
engine and the compiled kernels; for each command it forks a child that runs the command exactly as this process
would, on this process's own terminal (stdin, stdout and stderr are passed over the Unix socket), in its working
folder and environment, and reports the exit status. A user's command then pays neither the imports nor the
set-up. This module is imported before Django and must stay light: the standard library only.

When no service listens, or it refuses (another database or settings, changed code, another user), the command
runs in this process as it always did: the service changes how fast a command answers, never what it does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path
from types import FrameType

PROTOCOL = 1
# Commands that stay in the user's own process: servers and workers run for hours and manage their own children
# and signals, and `service` is the service itself.
IN_PROCESS = frozenset({"service", "serve", "demo", "worker"})
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def request_encode(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode("utf-8")
    return struct.pack("!I", len(body)) + body


def run_through_service(argv: list[str], socket_path: Path | None, settings_env: dict[str, str]) -> int | None:
    """Run the command in the service and return its exit status, or None when it must run in this process."""
    if socket_path is None or not argv or argv[0] in IN_PROCESS or not socket_path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(socket_path))
    except OSError:  # a socket left by a service that stopped: run here
        sock.close()
        return None
    with sock:
        payload = {"protocol": PROTOCOL, "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                   "settings_env": settings_env, "executable": sys.executable,
                   "encoding": {name: getattr(getattr(sys, name), "encoding", None) or "utf-8"
                                for name in ("stdin", "stdout", "stderr")}}
        try:
            # Why flush: anything this process printed must reach the terminal before the child writes to it.
            sys.stdout.flush()
            sys.stderr.flush()
            message = request_encode(payload)
            sent = socket.send_fds(sock, [message], [0, 1, 2])
            if sent < len(message):
                sock.sendall(message[sent:])
            reader = sock.makefile("rb")
            answer = reader.readline().decode("utf-8", "replace").split()
        except OSError:
            return None
        if len(answer) != 2 or answer[0] != "accepted":
            return None  # refused (another configuration, changed code): this process runs the command
        return _wait(reader, int(answer[1]))


def _wait(reader: object, pid: int) -> int:
    """Wait for the child's exit status, passing on the signals this process receives (Ctrl+C reaches the child
    as it would reach the command run here)."""
    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    try:
        while True:
            try:
                line = reader.readline()  # type: ignore[attr-defined]
            except InterruptedError:
                continue
            if not line:
                # The child ended without saying how (killed): the shell's convention for a death by signal.
                print("error: the command service's process for this command stopped before it finished",
                      file=sys.stderr)
                return 1
            words = line.decode("utf-8", "replace").split()
            if len(words) == 2 and words[0] == "exit":
                return int(words[1])
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
