"""The card log written off the request path: rows are queued and written in batches by one thread.

A hook answer never waits for the database. The rows only tie later feedback to its rule,
so a batch written a few hundred milliseconds later changes nothing the clinician sees.
Pending rows are written at exit (and by `flush()`).
"""
from __future__ import annotations

import atexit
import logging
import queue
import threading

from cds_service.store.repository import Store

log = logging.getLogger(__name__)
RETRIED = "_retried"


class CardLog:
    def __init__(self, store: Store, batch_size: int = 1000, interval: float = 0.25):
        self.store = store
        self.batch_size = batch_size
        self.interval = interval
        self._queue: queue.Queue[dict] = queue.Queue(maxsize=100_000)
        self._wake = threading.Event()  # set by flush(): stop gathering, write now
        self._thread = threading.Thread(target=self._run, name="card-log", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def record(self, rows: list[dict]) -> None:
        for row in rows:
            try:
                self._queue.put_nowait(row)
            except queue.Full:  # the database is far behind: write this one on the caller's thread
                self.store.record_cards([row])

    def flush(self) -> None:
        """Write every queued row now (retries included), and wait for the batch the writer thread holds."""
        self._wake.set()
        while batch := self._drain([]):
            self._write(batch)
        self._queue.join()

    def _drain(self, batch: list[dict]) -> list[dict]:
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[dict]) -> None:
        if not batch:
            return
        try:
            self.store.record_cards([{k: v for k, v in row.items() if k != RETRIED} for row in batch])
        except Exception as error:  # keep the thread alive; each row is retried once, then dropped
            retry = [dict(row, **{RETRIED: True}) for row in batch if not row.get(RETRIED)]
            log.error("card log write failed", extra={"error_type": type(error).__name__, "count": len(batch),
                                                      "reason": f"{len(retry)} rows will be retried"})
            for row in retry:
                try:
                    self._queue.put_nowait(row)
                except queue.Full:
                    break
        finally:
            for _ in batch:
                self._queue.task_done()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.interval)
            except queue.Empty:
                continue
            self._wake.wait(self.interval)  # gather a batch: one row at a time costs ~20x more per row
            self._wake.clear()
            self._write(self._drain([first]))
