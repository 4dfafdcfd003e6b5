"""What the routers share: the served model(s), the metrics, the limiters, and scoring rows."""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Any

from workbench.api.batching import MicroBatcher
from workbench.api.errors import invalid
from workbench.api.limits import RateLimiter
from workbench.api.models import BATCHED, COMPILED, LoadedModel, ModelManager
from workbench.api.monitoring import ApiMetrics, RecentInputs
from workbench.api.schemas import LoanApplication
from workbench.core.settings import Settings

log = logging.getLogger("workbench.api")
#: A compiled model scores up to this many rows on the event loop itself (more go to a thread).
INLINE_ROWS = 64
#: POST /reload: at most this many per second, all clients together (loading a model is heavy work)...
RELOAD_RATE = 0.2
#: ...with bursts up to this many.
RELOAD_BURST = 3


@dataclass
class ApiState:
    """One API instance: its settings, served model, metrics, limiters and micro-batcher."""

    settings: Settings
    manager: ModelManager
    metrics: ApiMetrics
    limiter: RateLimiter
    reload_limiter: RateLimiter
    batcher: MicroBatcher
    exposed: bool  # reachable from other machines: admin endpoints always need the token

    @classmethod
    def build(cls, settings: Settings, manager: ModelManager, exposed: bool) -> ApiState:
        """The state of a new API instance."""
        return cls(
            settings=settings,
            manager=manager,
            metrics=ApiMetrics(),
            limiter=RateLimiter(settings.api_rate_limit, settings.api_rate_burst),
            reload_limiter=RateLimiter(RELOAD_RATE, RELOAD_BURST),
            batcher=MicroBatcher(),
            exposed=exposed,
        )

    def served(self) -> LoadedModel:
        """The model the solo routes serve now, with the model-info gauge pointing at it."""
        model = self.manager.model
        self.metrics.set_model(model.name, model.version, model.alias, model.source)
        return model

    async def score(self, model: LoadedModel, rows: list[dict[str, Any]], recent: RecentInputs) -> list[dict[str, Any]]:
        """Each row's answer (prediction, label, probability, model version and source); counts the
        predictions and remembers the rows in `recent`. A model that cannot score the rows is a 422."""
        try:
            if model.serving.path == COMPILED and len(rows) <= INLINE_ROWS:
                probabilities = model.predict_proba(rows)  # microseconds: no thread hand-off
            elif model.serving.path == BATCHED:
                probabilities = await self.batcher.predict(model, model.predict_proba, rows)
            else:
                probabilities = await asyncio.to_thread(model.predict_proba, rows)
        except Exception as exc:  # the served model cannot score this input (e.g. no imputer for a null)
            log.warning("model version %s failed on an input: %s", model.version, exc)
            nulls = sorted({k for row in rows for k, v in row.items() if v is None})
            where = f"; it may not handle missing values in: {', '.join(nulls)}" if nulls else ""
            raise invalid(
                [
                    {
                        "loc": ["body"],
                        "type": "model_error",
                        "input": None,
                        "msg": f"the served model (version {model.version}) could not score this input{where}",
                    }
                ]
            ) from None
        answers = []
        for probability in probabilities:
            approved = bool(probability >= 0.5)
            label = "Approved" if approved else "Rejected"
            self.metrics.count_prediction(label)
            answers.append(
                {
                    "prediction": "Y" if approved else "N",
                    "label": label,
                    "probability": round(float(probability), 6),
                    "model_version": model.version,
                    "model_source": model.source,
                }
            )
        recent.add(rows)
        return answers

    def model_info(self, manager: ModelManager, model: LoadedModel) -> dict[str, Any]:
        """What `/model` answers about `model`, served by `manager`."""
        stats = self.batcher.stats
        return {
            "name": model.name,
            "version": model.version,
            "alias": model.alias,
            "run_id": model.run_id,
            "source": model.source,
            "source_detail": model.source_detail,
            "loaded_at": model.loaded_at,
            "fast_path": model.compiled is not None,
            "serving": {
                **vars(model.serving),
                "batching": vars(stats) | {"requests_per_call": round(stats.requests_per_call, 3)},
            },
            "metrics": {k: v for k, v in model.metrics.items() if math.isfinite(v)},
            "input_schema": LoanApplication.model_json_schema(),
            "refused": None if manager.refused is None else vars(manager.refused),
            "registry_problem": manager.registry_problem,
            "alias_missing": manager.alias_missing,
            "problems": manager.problems(),
        }
