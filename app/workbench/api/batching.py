"""Micro-batching: concurrent requests scored together in one `predict_proba` call.

A model the compiler cannot turn into NumPy (k-nearest neighbours, an SVM, a neural network...) pays
milliseconds of per-call overhead for every one-row `predict_proba`. When several clients call at once,
one call on all their rows costs about as much as one call on a single row, so the API groups them:

- when the model is idle, a request is scored at once (a single client never waits for a window);
- while a call is running, arriving requests queue; when it ends, everything queued (up to
  `max_rows` rows) goes into the next call;
- when the last calls were shared (several clients are active), the next call waits a short window
  (at most `max_window` seconds, 2 ms, and never longer than a quarter of a call) to gather more;
  the window closes again as soon as calls are back to one request each.

If a shared call fails (one row the model cannot score), each request is scored on its own, so one bad
row never fails another client's request.

Calls run on the event loop itself, with the native thread pools (OpenMP, BLAS) of the call limited to
one thread: handing each call to a worker thread and back costs two thread wake-ups, which on a busy
machine took longer than the call itself; and while a call runs, arriving requests simply wait in their
sockets and join the next call.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: At most this many rows per shared call.
MAX_ROWS = 64
#: The longest a call waits for more requests once clients are seen to be concurrent (seconds).
MAX_WINDOW = 0.002


@dataclass
class _Pending:
    key: object  # requests are batched only with requests for the same model
    predict: Callable[[list[dict[str, Any]]], np.ndarray]
    rows: list[dict[str, Any]]
    future: asyncio.Future


@dataclass
class BatchStats:
    """What the batcher did: calls, requests and rows, and its current window."""

    calls: int = 0
    requests: int = 0
    rows: int = 0
    window: float = 0.0

    @property
    def requests_per_call(self) -> float:
        """Average requests scored by one call (1.0: no batching happened)."""
        return self.requests / self.calls if self.calls else 0.0


class MicroBatcher:
    """Groups concurrent predictions into shared calls (see the module docstring)."""

    def __init__(self, max_rows: int = MAX_ROWS, max_window: float = MAX_WINDOW) -> None:
        self.max_rows = max(1, max_rows)
        self.max_window = max(0.0, max_window)
        self.stats = BatchStats()
        self._queue: deque[_Pending] = deque()
        self._running = False
        self._shared = 0.0  # moving average of requests per call
        self._call_seconds = 0.0  # moving average of the duration of a call

    async def predict(self, key: object, predict: Callable[[list[dict]], np.ndarray], rows: list[dict]) -> np.ndarray:
        """Score `rows` with `predict`, possibly together with other requests for the same `key`."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append(_Pending(key, predict, rows, future))
        if not self._running:
            self._running = True
            loop.create_task(self._drain())
        return await future

    def window(self) -> float:
        """How long the next call waits for more requests (0 while calls serve one request each)."""
        if self._shared < 1.5:
            return 0.0
        return min(self.max_window, self._call_seconds / 4)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                wait = self.window()
                self.stats.window = wait
                if wait > 0 and self._queued_rows() < self.max_rows:
                    await asyncio.sleep(wait)
                batch = self._take()
                started = time.perf_counter()
                with _one_thread():
                    results = _score_batch(batch)
                elapsed = time.perf_counter() - started
                self._call_seconds = elapsed if not self.stats.calls else 0.8 * self._call_seconds + 0.2 * elapsed
                self._shared = 0.7 * self._shared + 0.3 * len(batch)
                self.stats.calls += 1
                self.stats.requests += len(batch)
                self.stats.rows += sum(len(p.rows) for p in batch)
                for pending, result in zip(batch, results):
                    if pending.future.done():  # the client went away
                        continue
                    if isinstance(result, BaseException):
                        pending.future.set_exception(result)
                    else:
                        pending.future.set_result(result)
        finally:
            self._running = False
            if self._queue:  # arrived while the loop was finishing
                self._running = True
                loop.create_task(self._drain())

    def _queued_rows(self) -> int:
        return sum(len(p.rows) for p in self._queue)

    def _take(self) -> list[_Pending]:
        first = self._queue.popleft()
        batch, rows = [first], len(first.rows)
        while self._queue and self._queue[0].key is first.key and rows + len(self._queue[0].rows) <= self.max_rows:
            pending = self._queue.popleft()
            batch.append(pending)
            rows += len(pending.rows)
        return batch

    def close(self) -> None:
        """Fail the requests still queued (the API is stopping)."""
        while self._queue:
            pending = self._queue.popleft()
            if not pending.future.done():
                pending.future.set_exception(RuntimeError("the API is stopping"))


@functools.cache
def _controller():
    """The process's native thread pools (found once: scanning them costs milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_thread():
    """Native thread pools (OpenMP, BLAS) limited to one thread during a call: a call scores at most
    `max_rows` rows, and spinning pool threads would take the CPU from the requests being received."""
    return _controller().limit(limits=1)


def _score_batch(batch: list[_Pending]) -> list[np.ndarray | BaseException]:
    """One call for all rows of the batch; on failure, one call per request (so errors stay their own)."""
    predict = batch[0].predict
    if len(batch) > 1:
        rows = [row for pending in batch for row in pending.rows]
        try:
            probabilities = np.asarray(predict(rows))
        except Exception:  # noqa: BLE001 - some request has a row the model refuses: score them apart
            pass
        else:
            out, start = [], 0
            for pending in batch:
                out.append(probabilities[start : start + len(pending.rows)])
                start += len(pending.rows)
            return out
    results: list[np.ndarray | BaseException] = []
    for pending in batch:
        try:
            results.append(np.asarray(predict(pending.rows)))
        except Exception as exc:  # noqa: BLE001 - handed to the request that sent the row
            results.append(exc)
    return results
