"""`union-bot run` or `union-bot webhook` as a real process, against a fake Telegram served on
127.0.0.1 (the webhook and scale-out tests, the load and fault benchmarks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import bot_env

TOKEN = "123456789:PROCESSTEST"
GENERAL = -1009000000000
STAFF_CHATS = {
    "staff_chat_general": GENERAL,
    "staff_chat_organization": -1009000000001,
    "staff_chat_democratic_management": -1009000000002,
    "staff_chat_rights": -1009000000003,
    "staff_chat_publicity": -1009000000004,
}
READY = "union-bot ready as"


class BotProcess:
    def __init__(self, command: str, work: Path, *, name: str = "bot", **settings: object) -> None:
        self.command = command
        self.work = work
        self.name = name
        self.settings = settings
        self.log_path = work / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_from = 0

    def start(self, *, wait: float = 60.0) -> BotProcess:
        """Start it and wait until it says it is ready (its log grows; it keeps each run's)."""
        self.work.mkdir(parents=True, exist_ok=True)
        self._log_from = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = bot_env(token=TOKEN, **STAFF_CHATS, **self.settings)
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", self.command],
                env=env,
                cwd=self.work,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + wait
        while READY not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.log()[-2000:]}")
            time.sleep(0.05)
        return self

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_bytes()[self._log_from :].decode(errors="replace")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout: float = 30.0) -> float:
        """SIGTERM, and the seconds it took to exit (killed after `timeout`)."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.monotonic() - began

    def kill(self) -> None:
        """kill -9: no chance to finish anything."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def cpu_seconds(self) -> float:
        """User and system CPU time the process has used so far."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return float("nan")

    def peak_rss_mib(self) -> float:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")
