"""A watch on a FIFO planted where a file is expected: it sees a reader stuck on it and lets it go.

A reader that opens a FIFO without `O_NONBLOCK` blocks until a writer comes; one that then reads
waits for end of file. The watch opens the FIFO for writing as soon as a reader holds it, waits a
moment, and writes a byte: that succeeds only while a reader still holds the FIFO (a quick
open-fstat-close reader is long gone, and the write fails with a broken pipe). Closing its end
then gives the stuck reader end of file, so a regression fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path


class FifoWatch:
    """`with FifoWatch(path) as watch: ...`; then `watch.stuck_readers` counts readers that were stuck.

    `probe` is called when a reader is found and again after the hold; `samples` keeps the pairs
    of stuck readers (e.g. an event loop's tick count: equal values mean the loop stood still).
    """

    def __init__(self, fifo: Path, probe: Callable[[], object] | None = None, hold: float = 0.3) -> None:
        self.fifo, self.probe, self.hold = fifo, probe or (lambda: None), hold
        self.stuck_readers = 0
        self.samples: list[tuple[object, object]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fifo-watch", daemon=True)

    def __enter__(self) -> FifoWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader (ENXIO), or the FIFO was replaced
                time.sleep(0.005)
                continue
            try:
                if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                    return  # replaced by a regular file: nothing left to watch
                before = self.probe()
                time.sleep(self.hold)
                after = self.probe()
                try:
                    os.write(fd, b" ")
                except OSError:  # broken pipe: the reader had already let go
                    continue
                self.stuck_readers += 1
                self.samples.append((before, after))
            finally:
                os.close(fd)
