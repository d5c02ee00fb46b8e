"""LockstepServer: starts `lockstep serve` for one env, reads its `listening` line, and stops it on close() and at exit."""
import atexit
import collections
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from typing import Any, Deque, Dict, List, Optional, Sequence

from .client import LockstepError


class LockstepServerError(LockstepError):
    """`lockstep serve` could not be found or started, or it exited."""


def find_cli(lockstep_cli: Optional[str] = None) -> List[str]:
    """The command that runs the Lockstep CLI: lockstep_cli=, then $LOCKSTEP_CLI, then `lockstep` on PATH.

    Each may be a path to `cli.js` (run with node) or to a `lockstep` executable. Raises naming everything it tried.
    """
    tried = []
    candidates = [("lockstep_cli=", lockstep_cli), ("LOCKSTEP_CLI", os.environ.get("LOCKSTEP_CLI"))]
    for source, value in candidates:
        if not value:
            continue
        cmd = _command_for(value)
        if cmd:
            return cmd
        tried.append("%s %r (%s)" % (source, value, _why_not(value)))
        # An explicit choice that does not work is an error, not a reason to run some other lockstep.
        raise LockstepServerError("cannot start lockstep serve: %s" % tried[-1])
    on_path = shutil.which("lockstep")
    if on_path:
        return [on_path]
    raise LockstepServerError(
        "cannot start lockstep serve: no lockstep_cli= argument, LOCKSTEP_CLI is not set, and there is no `lockstep` on PATH "
        "(install the CLI with `npm install -g lockstep-nes`, or point LOCKSTEP_CLI at its cli.js)")


def _command_for(value: str) -> Optional[List[str]]:
    if value.endswith(".js"):
        node = shutil.which("node")
        return [node, value] if node and os.path.isfile(value) else None
    if os.path.isfile(value) and os.access(value, os.X_OK):
        return [value]
    return None


def unix_sockets_supported() -> bool:
    """Whether this Python can reach the server over a Unix-domain socket (POSIX; Windows uses loopback TCP)."""
    return os.name == "posix" and hasattr(socket, "AF_UNIX")


def _why_not(value: str) -> str:
    if not os.path.exists(value):
        return "no such file"
    if value.endswith(".js"):
        return "no `node` on PATH to run it" if not shutil.which("node") else "not a file"
    return "not an executable file"


# Every server still running, stopped at interpreter exit (weak: a closed or collected env's server is already gone).
_LIVE: "weakref.WeakSet[LockstepServer]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


class LockstepServer(object):
    """One `lockstep serve` child process with a websocket agent on controller 1.

    The child also watches its stdin (--exit-with-stdin): if this Python process dies without running atexit
    (SIGKILL), the pipe closes and the server stops by itself, so no `lockstep serve` is left behind.

    The embedded emulator runs on the server's main thread (embedded_thread="main", the default here): nothing else
    shares that server, and a worker thread would cost two thread hand-offs a frame. "worker" is `lockstep serve`'s
    own default.

    With unix_socket (the default where supported) the server also listens on a Unix-domain socket in a fresh private
    directory (mode 0700), and `socket_path` names it: a message there costs a fraction of a loopback-TCP one, which is
    most of what a step spends outside the emulator. The TCP port and token work as always.
    """

    def __init__(self, rom: Optional[str] = None, ram_map: Optional[str] = None, emulator: Optional[str] = None,
                 record: Optional[str] = None, max_steps: Optional[int] = None, lockstep_cli: Optional[str] = None,
                 extra_args: Sequence[str] = (), startup_timeout: float = 60.0, cwd: Optional[str] = None,
                 unix_socket: bool = True, embedded_thread: Optional[str] = None) -> None:
        embedded = emulator in (None, "embedded")
        if embedded_thread not in (None, "main", "worker"):
            raise ValueError("embedded_thread must be 'main' or 'worker', got %r" % (embedded_thread,))
        if embedded_thread is not None and not embedded:
            raise ValueError("embedded_thread applies to the embedded emulator only, not to emulator=%r" % (emulator,))
        self.command = find_cli(lockstep_cli)
        self._socket_dir: Optional[str] = None
        args = ["serve", "--agent", "websocket", "--exit-with-stdin"]
        if unix_socket and unix_sockets_supported():
            # mkdtemp makes the directory 0700: only this user can reach the socket inside (the token is still checked).
            self._socket_dir = tempfile.mkdtemp(prefix="lockstep-")
            args += ["--socket", os.path.join(self._socket_dir, "bridge.sock")]
        if rom is not None:
            args += ["--rom", os.fspath(rom)]
        if ram_map is not None:
            args += ["--ram-map", os.fspath(ram_map)]
        if emulator is not None:
            args += ["--emulator", str(emulator)]
        if embedded:
            # This server exists for one env: jsnes on its main thread spares two thread hand-offs per frame.
            args += ["--embedded-thread", embedded_thread or "main"]
        if record is not None:
            args += ["--record", os.fspath(record)]
        if max_steps is not None:
            args += ["--max-steps", str(int(max_steps))]
        args += list(extra_args)
        self.args = args
        self._stderr: Deque[str] = collections.deque(maxlen=40)
        self._stdout: Deque[str] = collections.deque(maxlen=10)
        try:
            self.process = subprocess.Popen(self.command + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, cwd=cwd, text=True, bufsize=1)
        except OSError as e:
            self._remove_socket_dir()
            raise LockstepServerError("cannot start %s: %s" % (" ".join(self.command), e)) from None
        _LIVE.add(self)
        try:
            self.listening = self._wait_listening(startup_timeout)
        except BaseException:
            self.stop()  # closes its pipes and removes the socket directory too
            raise
        threading.Thread(target=self._drain, args=(self.process.stdout, self._stdout), name="lockstep-serve-stdout", daemon=True).start()
        self.url: str = self.listening["url"]
        self.token: str = self.listening["token"]
        #: the Unix-domain socket the server listens on too, or None (TCP only)
        self.socket_path: Optional[str] = self.listening.get("socket")

    def _wait_listening(self, timeout: float) -> Dict[str, Any]:
        proc = self.process
        err_thread = threading.Thread(target=self._drain, args=(proc.stderr, self._stderr), name="lockstep-serve-stderr", daemon=True)
        err_thread.start()
        found: Dict[str, Any] = {}

        def read_stdout() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                self._stdout.append(line.rstrip("\n"))
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if isinstance(msg, dict) and msg.get("event") == "listening":
                    found.update(msg)
                    return

        reader = threading.Thread(target=read_stdout, name="lockstep-serve-listen", daemon=True)
        reader.start()
        reader.join(timeout)
        if found:
            return found
        if reader.is_alive():
            self.stop()
            raise LockstepServerError("lockstep serve printed no `listening` line within %ss%s" % (timeout, self._stderr_tail()))
        code = proc.wait(5)
        err_thread.join(2)
        raise LockstepServerError("lockstep serve exited with code %s before listening%s" % (code, self._stderr_tail()))

    @staticmethod
    def _drain(stream: Any, keep: Deque[str]) -> None:
        # The child must never block on a full pipe: read everything, keep the tail for error messages.
        try:
            for line in stream:
                keep.append(line.rstrip("\n"))
        except (OSError, ValueError):
            pass

    def _stderr_tail(self) -> str:
        lines = [l for l in self._stderr if l.strip()]
        return (":\n" + "\n".join(lines[-8:])) if lines else ""

    @property
    def returncode(self) -> Optional[int]:
        return self.process.poll()

    def exited(self, grace: float = 0.0) -> bool:
        """True when the server has exited, waiting up to `grace` seconds (a link error often comes just before the exit)."""
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        return self.process.poll() is not None

    def exit_message(self) -> str:
        """Why the server is gone: its exit code and the end of its stderr."""
        code = self.process.poll()
        time.sleep(0.05)  # let the drain thread take the last lines
        return "lockstep serve (pid %d) exited with code %s%s" % (self.process.pid, code, self._stderr_tail())

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the server finishes its recordings), then SIGKILL after `timeout`."""
        _LIVE.discard(self)
        proc = self.process
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except (OSError, ValueError):
                pass
        self._remove_socket_dir()

    def _remove_socket_dir(self) -> None:
        # The server removes its socket file when it stops; a killed one leaves it, so the directory goes in any case.
        d, self._socket_dir = self._socket_dir, None
        if d is not None:
            shutil.rmtree(d, ignore_errors=True)

    def __repr__(self) -> str:
        return "LockstepServer(pid=%d, url=%s)" % (self.process.pid, getattr(self, "url", "?"))

