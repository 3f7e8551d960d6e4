"""``python -m training fine-tune`` in a child process (QProcess), its JSON-lines progress
turned into signals. Training in its own process keeps the viewer responsive (and its
memory), and the viewer never imports the training package: it only starts it.

Cancelling sends SIGTERM (on Windows the process is killed): the command stops after its
current step and writes no weights.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

KILL_AFTER_MS = 15_000  # a cancelled run that has not stopped by then is killed


def training_available() -> bool:
    """Whether this installation can fine-tune (a source install with the training package
    and PyTorch; the packaged viewer has neither). Looks them up without importing them."""
    return (importlib.util.find_spec("training") is not None
            and importlib.util.find_spec("torch") is not None)


class FineTuneProcess(QObject):
    started = Signal(dict)  # {"cases", "minutes"}
    stepped = Signal(dict)  # {"epoch", "step", "planned_steps", "loss", "time_left_s"}
    validated = Signal(dict)  # {"epoch", "tumor_dice", "liver_dice"}
    logged = Signal(str)
    finished = Signal(dict)  # {"weights", "before", "after", "stop_reason", ...}
    failed = Signal(str)
    stopped = Signal()  # cancelled: no weights

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process = QProcess(self)
        self._process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self._process.readyReadStandardOutput.connect(self._read)
        self._process.finished.connect(self._ended)
        self._process.errorOccurred.connect(self._error)
        self._errors: list[str] = []
        self._outcome: str | None = None
        self._buffer = b""
        self._run = 0  # counts starts, so a kill timer of a cancelled run spares the next

    @property
    def running(self) -> bool:
        return self._process.state() != QProcess.ProcessState.NotRunning

    def start(self, dataset: Path, out: Path, minutes: float, base: Path | None = None,
              extra: list[str] | None = None) -> None:
        arguments = ["-m", "training", "fine-tune", str(dataset), str(out), "--minutes",
                     f"{minutes:g}", "--progress-json", *(extra or [])]
        if base is not None:
            arguments += ["--from", str(base)]
        environment = QProcessEnvironment.systemEnvironment()
        spec = importlib.util.find_spec("training")
        if spec is not None and spec.origin:
            # The package's folder on the child's path, wherever this viewer runs from.
            root = str(Path(spec.origin).parent.parent)
            current = environment.value("PYTHONPATH", "")
            environment.insert("PYTHONPATH", os.pathsep.join(filter(None, [root, current])))
        self._process.setProcessEnvironment(environment)
        self._errors, self._outcome, self._buffer = [], None, b""
        self._run += 1
        self._process.start(sys.executable, arguments)

    def cancel(self) -> None:
        if not self.running:
            return
        self._outcome = "cancelled"
        if sys.platform == "win32":
            self._process.kill()
        else:
            self._process.terminate()
            run = self._run
            # The process as context: Qt drops the timer if the process object is gone by then.
            QTimer.singleShot(KILL_AFTER_MS, self._process, lambda: self._kill_if_running(run))

    def wait(self, milliseconds: int = 30_000) -> bool:
        return self._process.waitForFinished(milliseconds)

    def _kill_if_running(self, run: int) -> None:
        if self.running and run == self._run:
            self._process.kill()

    def _read(self) -> None:
        self._buffer += bytes(self._process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._handle(line.decode("utf-8", "replace").strip())

    def _handle(self, line: str) -> None:
        if not line:
            return
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            self.logged.emit(line)
            return
        kind = event.get("event")
        if kind == "start":
            self.started.emit(event)
        elif kind == "step":
            self.stepped.emit(event)
        elif kind == "validation":
            self.validated.emit(event)
        elif kind == "log":
            self.logged.emit(str(event.get("message", "")))
        elif kind == "error":
            self._errors.append(str(event.get("message", "")))
        elif kind == "done":
            self._outcome = "done"
            self.finished.emit(event)

    def _ended(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        if self._buffer:
            self._handle(self._buffer.decode("utf-8", "replace").strip())
            self._buffer = b""
        if self._outcome == "done":
            return
        if self._outcome == "cancelled":
            self.stopped.emit()
            return
        stderr = bytes(self._process.readAllStandardError()).decode("utf-8", "replace")
        message = "; ".join(self._errors) or stderr.strip().splitlines()[-1:] or [
            f"the training process ended with code {code}"]
        self.failed.emit(message if isinstance(message, str) else message[0])

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed.emit(f"could not start {sys.executable}: {self._process.errorString()}")
