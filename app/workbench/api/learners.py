"""Class mode: one shared API serves each learner's own `@production` model.

In class mode (`WORKBENCH_MODE=class`) the API also answers under `/learners/{learner}/…` (predict,
predict_status, predict/batch, model, reload, recent_inputs). `{learner}` is the learner's name as the
workbench knows it (URL-encoded); the model served is the `@production` alias (`WORKBENCH_API_ALIAS`) of
`settings.learner_model_name(learner)`, the learner's own registered model.

- Loaded lazily, on a learner's first request, with the same safe loader, compiler and smoke test as the
  solo API (`workbench.api.models.ModelManager`), and never a fallback: a learner without a usable
  `@production` gets a 404 naming them and saying why (no version, refused as unsafe), never a 500.
- Kept in a bounded LRU (`WORKBENCH_API_LEARNER_MODELS`, default 8): the least recently used model is
  dropped when another learner's is loaded, and loaded again on its learner's next request.
- Rate limited per learner (`WORKBENCH_API_RATE_LIMIT` / `_BURST`, a batch costs its rows): the class
  shares one app, hence one client address, so a per-address limit would make every learner wait for the
  busiest one.
- Each learner has their own recent-inputs window (`/learners/{learner}/recent_inputs`): learner A's
  predictions never show up in learner B's monitoring.

Trust model. The workbench app calls these routes on behalf of the signed-in learner, and only for them
(`workbench.core.api_client` with `learner=`). The API cannot see who is signed in to the app, so it trusts
a bearer token:
- `WORKBENCH_API_ADMIN_TOKEN` (the app's token, shared by the app and the API) may call any learner's routes;
- `learner_token(admin_token, learner)`, an HMAC of the learner's key, may call that learner's routes only:
  the app can hand it to a learner who wants to call their own route with curl, and it gives nothing on
  anyone else's routes;
- with no admin token configured, learner routes are open only while the API listens on loopback (a
  teacher's laptop, tests); an API reachable from other machines refuses them (403) until a token is set.
So a learner can read or feed only their own model, recent inputs and monitoring, unless they hold the
app's token. What a learner's model answers is theirs; the prediction metrics (`/metrics`) stay
class-wide and carry no learner label, so no learner's data leaks through them.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from workbench.api.limits import RateLimiter
from workbench.api.models import LoadedModel, ModelManager
from workbench.api.monitoring import RecentInputs
from workbench.core.api_tokens import learner_token
from workbench.core.settings import Settings, learner_key

#: Recent-inputs windows kept, one per learner (they outlive their learner's model in the LRU).
MAX_WINDOWS = 1000


def learner_refusal(headers, learner: str, token: str, exposed: bool) -> tuple[int, str] | None:
    """Why a call to `learner`'s routes is refused, or None when allowed (see the module docstring)."""
    supplied = headers.get("authorization", "")
    supplied = supplied[7:].strip() if supplied.lower().startswith("bearer ") else ""
    if token:
        for accepted in (token, learner_token(token, learner)):
            if supplied and hmac.compare_digest(supplied.encode(), accepted.encode()):
                return None
        return 401, (
            f"the routes of learner {learner!r} need the workbench's token or this learner's own token: "
            "Authorization: Bearer <token>"
        )
    if exposed:
        return 403, (
            "learner routes are disabled: the API is reachable from other machines and "
            "WORKBENCH_API_ADMIN_TOKEN is not set"
        )
    return None


@dataclass
class LearnerServing:
    """One learner's model, as the shared API holds it."""

    learner: str
    manager: ModelManager
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class LearnerModels:
    """Each learner's `@production`, loaded on demand, at most `size` at a time (least recently used out)."""

    def __init__(self, settings: Settings, size: int | None = None) -> None:
        self.settings = settings
        self.size = max(1, size or settings.api_learner_models)
        self.limiter = RateLimiter(settings.api_rate_limit, settings.api_rate_burst)
        self._servings: OrderedDict[str, LearnerServing] = OrderedDict()
        self._windows: OrderedDict[str, RecentInputs] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # models loaded since start (a reload after eviction counts again)

    def model_name(self, learner: str) -> str:
        """The registered model that serves `learner`."""
        return self.settings.learner_model_name(learner)

    def serving(self, learner: str) -> LearnerServing:
        """`learner`'s entry (created empty, most recently used now); evicts the least recently used."""
        key = learner_key(learner)
        evicted: list[LearnerServing] = []
        with self._lock:
            serving = self._servings.get(key)
            if serving is None:
                settings = replace(self.settings, model_name=self.model_name(learner))
                serving = LearnerServing(learner, ModelManager(settings, fallback=False))
                self._servings[key] = serving
            self._servings.move_to_end(key)
            while len(self._servings) > self.size:
                evicted.append(self._servings.popitem(last=False)[1])
        for old in evicted:
            old.manager.stop_watching()
        return serving

    async def model(self, learner: str) -> tuple[LearnerServing, LoadedModel]:
        """`learner`'s model, loading it off the event loop on first use.

        Raises:
            NoModel: the learner has no `@production` version that loads (the message says why).
        """
        serving = self.serving(learner)
        model = serving.manager.loaded
        if model is None:
            async with serving.lock:  # concurrent first requests wait for one load
                model = serving.manager.loaded
                if model is None:
                    model = await asyncio.to_thread(lambda: serving.manager.model)
                    self.loads += 1
                    serving.manager.start_watching()  # alias moves picked up, as in solo mode
        return serving, model

    def recent(self, learner: str) -> RecentInputs:
        """`learner`'s own recent-inputs window."""
        key = learner_key(learner)
        with self._lock:
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = RecentInputs()
                while len(self._windows) > MAX_WINDOWS:
                    self._windows.popitem(last=False)
            self._windows.move_to_end(key)
            return window

    def loaded(self) -> list[str]:
        """Learners whose model is loaded, least recently used first."""
        with self._lock:
            return [s.learner for s in self._servings.values() if s.manager.loaded is not None]

    def close(self) -> None:
        """Stop every watcher thread."""
        with self._lock:
            servings = list(self._servings.values())
        for serving in servings:
            serving.manager.stop_watching()
