"""The autoscaling simulator: load, replicas, latency, cost."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from workbench.chapters.ch09_kubernetes.lab.manifests import ApiSpec, K8sError, generate_manifests, to_yaml
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.formatting import localize_figure
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# Autoscaling simulator
# --------------------------------------------------------------------------------------------

MINUTES = 24 * 60
SATURATED_MS = 10_000.0  # what the latency chart shows when the pods cannot keep up (requests time out)


def daily_traffic(
    peak_rps: float, base_share: float = 0.12, peak_hour: float = 18.0, spike: bool = False
) -> np.ndarray:
    """Requests per second, minute by minute over a day: quiet night, a lunch bump, the evening peak.

    Args:
        peak_rps: the busiest minute's traffic.
        base_share: night traffic as a share of the peak.
        peak_hour: when the evening peak is highest.
        spike: add a sudden burst to the peak at 10:00 for 15 minutes (a marketing e-mail).
    """
    hours = np.arange(MINUTES) / 60

    def bump(center: float, width: float) -> np.ndarray:
        distance = np.minimum(np.abs(hours - center), 24 - np.abs(hours - center))
        return np.exp(-0.5 * (distance / width) ** 2)

    shape = np.maximum(0.6 * bump(12.5, 1.6), bump(peak_hour, 2.2))
    shape = (shape - shape.min()) / (shape.max() - shape.min())
    traffic = peak_rps * (base_share + (1 - base_share) * shape)
    if spike:
        traffic[10 * 60 : 10 * 60 + 15] = peak_rps
    return traffic


@dataclass(frozen=True)
class HpaConfig:
    """The HPA and the pods it scales, with the price of a pod."""

    min_replicas: int = 2
    max_replicas: int = 10
    target_cpu: int = 70  # % of the CPU request
    pod_capacity_rps: float = 40.0  # requests/s one pod serves at 100 % of its CPU request
    startup_minutes: int = 2  # a new pod pulls the image and loads the model before it is ready
    scale_down_window_minutes: int = 5  # Kubernetes' default stabilization window for scaling down
    tolerance: float = 0.1  # Kubernetes' default: no change while |ratio - 1| <= 10 %
    cpu_request: float = 0.5  # vCPU (requests = limits: Guaranteed pods, as GKE Autopilot bills them)
    memory_gib: float = 0.5
    vcpu_hour_price: float = 0.0445  # illustrative list prices (USD); check the current GKE pricing page
    gib_hour_price: float = 0.0049

    @property
    def pod_hour_price(self) -> float:
        """What one pod costs per hour."""
        return self.cpu_request * self.vcpu_hour_price + self.memory_gib * self.gib_hour_price


def hpa_desired_replicas(
    current: int, metric: float, target: float, low: int, high: int, tolerance: float = 0.1
) -> int:
    """The HPA's rule: ceil(current × metric / target), unchanged within the tolerance, clamped to [low, high]."""
    if current <= 0 or target <= 0:
        return max(low, min(high, current))
    ratio = metric / target
    desired = current if abs(ratio - 1) <= tolerance else math.ceil(current * ratio - 1e-9)
    return max(low, min(high, desired))


def erlang_c(servers: np.ndarray, offered: np.ndarray) -> np.ndarray:
    """Probability that a request waits in an M/M/c queue (c = servers, offered load a = λ/μ < c)."""
    servers = np.asarray(servers, dtype=int)
    offered = np.asarray(offered, dtype=float)
    blocking = np.ones_like(offered)
    for k in range(1, int(servers.max(initial=1)) + 1):  # Erlang B, one server at a time
        step = offered * blocking / (k + offered * blocking)
        blocking = np.where(k <= servers, step, blocking)
    rho = offered / np.maximum(servers, 1)
    return blocking / (1 - rho * (1 - blocking))


def p95_latency_ms(rps: np.ndarray, ready: np.ndarray, capacity: float) -> np.ndarray:
    """95th percentile of the response time (queueing + service) of an M/M/c queue, in milliseconds.

    Saturated minutes (traffic ≥ ready × capacity) get SATURATED_MS.
    """
    rps, ready = np.asarray(rps, dtype=float), np.asarray(ready, dtype=int)
    mu = capacity
    stable = (ready > 0) & (rps < ready * mu)
    out = np.full(rps.shape, SATURATED_MS)
    if not stable.any():
        return out
    lam, c = rps[stable], ready[stable]
    wait = erlang_c(c, lam / mu)
    theta = c * mu - lam

    def tail(t: np.ndarray) -> np.ndarray:  # P(response time > t)
        same = np.isclose(theta, mu)
        mixed = np.where(
            same,
            (1 + mu * t) * np.exp(-mu * t),
            (theta * np.exp(-mu * t) - mu * np.exp(-theta * t)) / np.where(same, 1, theta - mu),
        )
        return (1 - wait) * np.exp(-mu * t) + wait * mixed

    low, high = np.zeros_like(lam), np.full(lam.shape, 1.0)
    while (tail(high) > 0.05).any():
        high = np.where(tail(high) > 0.05, high * 2, high)
    for _ in range(60):
        middle = (low + high) / 2
        above = tail(middle) > 0.05
        low, high = np.where(above, middle, low), np.where(above, high, middle)
    out[stable] = np.minimum(high * 1000, SATURATED_MS)
    return out


@dataclass(frozen=True)
class AutoscaleResult:
    """Minute by minute: traffic, replicas, utilization, p95 latency; and the day's totals."""

    frame: pd.DataFrame
    config: HpaConfig
    slo_ms: float

    @property
    def peak_p95_ms(self) -> float:
        """The worst minute's p95 latency."""
        return float(self.frame["p95_ms"].max())

    @property
    def minutes_over_slo(self) -> int:
        """Minutes whose p95 latency is above the objective."""
        return int((self.frame["p95_ms"] > self.slo_ms).sum())

    @property
    def pod_hours(self) -> float:
        """Pods × hours paid (starting pods count: they are billed)."""
        return float(self.frame["replicas"].sum() / 60)

    @property
    def cost(self) -> float:
        """The day's cost of the pods."""
        return self.pod_hours * self.config.pod_hour_price

    @property
    def max_replicas_used(self) -> int:
        """The most pods running at once."""
        return int(self.frame["replicas"].max())

    @property
    def dropped_share(self) -> float:
        """Share of the day's requests the pods could not serve."""
        return float(self.frame["dropped_rps"].sum() / max(self.frame["rps"].sum(), 1e-9))


def simulate_autoscaling(traffic: np.ndarray, config: HpaConfig, slo_ms: float = 200.0) -> AutoscaleResult:
    """Run the HPA once a minute over the traffic and derive replicas, latency and cost.

    Each minute the HPA reads the average CPU utilization of the ready pods (traffic / (ready × capacity),
    at most 100 %: requests = limits), applies `hpa_desired_replicas`, scales up at once and scales down
    to the highest recommendation of the stabilization window. New pods become ready `startup_minutes`
    later. The day starts with the replicas the first minute's traffic needs.

    Raises:
        K8sError: inconsistent settings.
    """
    if not 1 <= config.min_replicas <= config.max_replicas or not 1 <= config.target_cpu <= 100:
        raise K8sError("error_replicas", min=config.min_replicas, max=config.max_replicas)
    if config.pod_capacity_rps <= 0 or config.startup_minutes < 0 or config.scale_down_window_minutes < 0:
        raise K8sError("error_sim_settings")
    traffic = np.asarray(traffic, dtype=float)
    mu, target = config.pod_capacity_rps, config.target_cpu
    first = math.ceil(traffic[0] / (mu * target / 100)) if len(traffic) else config.min_replicas
    spec = max(config.min_replicas, min(config.max_replicas, first))
    ready_at = [0] * spec  # minute each running pod becomes (or became) ready
    recommendations: deque[tuple[int, int]] = deque()
    rows = np.zeros((len(traffic), 5))
    for minute, rps in enumerate(traffic):
        ready = sum(1 for t in ready_at if t <= minute)
        utilization = 100.0 * min(rps / (max(ready, 1) * mu), 1.0)
        recommendation = hpa_desired_replicas(
            ready, utilization, target, config.min_replicas, config.max_replicas, config.tolerance
        )
        recommendation = max(recommendation, spec) if ready < spec and recommendation < spec else recommendation
        recommendations.append((minute, recommendation))
        while recommendations and recommendations[0][0] <= minute - config.scale_down_window_minutes:
            recommendations.popleft()
        if recommendation > spec:
            ready_at += [minute + config.startup_minutes] * (recommendation - spec)
            spec = recommendation
        else:
            down_to = max(r for _, r in recommendations)
            if down_to < spec:
                ready_at = sorted(ready_at)[:down_to]  # the youngest pods (not ready yet, if any) go first
                spec = down_to
        ready = sum(1 for t in ready_at if t <= minute)  # after a scale-down, fewer pods serve this minute
        rows[minute] = (rps, spec, ready, utilization, recommendation)
    frame = pd.DataFrame(rows, columns=["rps", "replicas", "ready", "utilization", "desired"])
    frame.insert(0, "minute", np.arange(len(traffic)))
    frame.insert(1, "hour", frame["minute"] / 60)
    for column in ("replicas", "ready", "desired"):
        frame[column] = frame[column].astype(int)
    frame["p95_ms"] = p95_latency_ms(frame["rps"].to_numpy(), frame["ready"].to_numpy(), mu)
    frame["dropped_rps"] = np.maximum(frame["rps"] - frame["ready"] * mu, 0)
    return AutoscaleResult(frame, config, slo_ms)


def autoscaling_figure(result: AutoscaleResult, lang: str):
    """Three stacked charts over the day: traffic and capacity, replicas, p95 latency against the objective."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    tr = lambda key: translate(f"k8s.{key}", lang)  # noqa: E731
    f, mu = result.frame, result.config.pod_capacity_rps
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=(tr("fig_traffic"), tr("fig_replicas"), tr("fig_latency")),
    )
    fig.add_trace(go.Scatter(x=f["hour"], y=f["rps"], name=tr("fig_rps"), line={"color": "#1c7ed6"}), 1, 1)
    fig.add_trace(
        go.Scatter(
            x=f["hour"],
            y=f["ready"] * mu,
            name=tr("fig_capacity"),
            line={"color": "#2f9e44", "dash": "dot", "shape": "hv"},
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(x=f["hour"], y=f["replicas"], name=tr("fig_running"), line={"color": "#7048e8", "shape": "hv"}), 2, 1
    )
    fig.add_trace(
        go.Scatter(x=f["hour"], y=f["ready"], name=tr("fig_ready"), line={"color": "#2f9e44", "shape": "hv"}), 2, 1
    )
    hours = [0, f["hour"].iloc[-1]]
    fig.add_trace(
        go.Scatter(
            x=hours,
            y=[result.config.max_replicas] * 2,
            name="maxReplicas",
            mode="lines",
            line={"color": "#868e96", "dash": "dash"},
        ),
        2,
        1,
    )
    fig.add_trace(go.Scatter(x=f["hour"], y=f["p95_ms"], name=tr("fig_p95"), line={"color": "#e8590c"}), 3, 1)
    # a trace, not add_hline: shapes on a log axis take log10 coordinates
    fig.add_trace(
        go.Scatter(
            x=hours, y=[result.slo_ms] * 2, name=tr("fig_slo"), mode="lines", line={"color": "#e03131", "dash": "dash"}
        ),
        3,
        1,
    )
    fig.update_yaxes(title_text="req/s", row=1, col=1)
    fig.update_yaxes(title_text=tr("fig_pods"), row=2, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="ms", type="log", row=3, col=1)
    fig.update_xaxes(title_text=tr("fig_hour"), row=3, col=1, dtick=2)
    fig.update_layout(
        height=760,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.09},
    )
    return localize_figure(fig, lang)


def hpa_yaml(config: HpaConfig, name: str = "loan-api") -> str:
    """The HorizontalPodAutoscaler matching the simulator's settings."""
    spec = ApiSpec(
        name=name, min_replicas=config.min_replicas, max_replicas=config.max_replicas, target_cpu=config.target_cpu
    )
    hpa = generate_manifests(spec)[-1]
    hpa["spec"]["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": 60 * config.scale_down_window_minutes}}
    return to_yaml([hpa])


# --- The sizing exercise -----------------------------------------------------------------------

SIZING = {"peak_rps": 400.0, "slo_ms": 150.0, "tolerance": 0.05}
SIZING_TARGETS: tuple[int, ...] = tuple(range(30, 100, 5))


def sizing_traffic(peak_rps: float) -> np.ndarray:
    """The exercise's day: the daily curve (no burst)."""
    return daily_traffic(peak_rps)


@lru_cache(maxsize=16)
def cheapest_sizing(peak_rps: float, slo_ms: float, min_replicas: int = 2) -> tuple[int, int, float]:
    """The cheapest (max replicas, target CPU) of a grid whose worst p95 of the day meets the objective.

    Returns:
        (max replicas, target CPU %, cost of the day).

    Raises:
        K8sError: no setting of the grid meets the objective.
    """
    traffic = sizing_traffic(peak_rps)
    needed = max(min_replicas, math.ceil(peak_rps / HpaConfig().pod_capacity_rps))
    ceiling = needed * 3
    best: tuple[int, int, float] | None = None
    for target in SIZING_TARGETS:
        if simulate_autoscaling(traffic, HpaConfig(min_replicas, ceiling, target), slo_ms).peak_p95_ms > slo_ms:
            continue  # even with plenty of pods, this target reacts too late
        for high in range(needed, ceiling + 1):
            result = simulate_autoscaling(traffic, HpaConfig(min_replicas, high, target), slo_ms)
            if result.peak_p95_ms <= slo_ms:
                if best is None or result.cost < best[2] - 1e-9:
                    best = (high, target, result.cost)
                break  # a higher maximum costs the same or more
    if best is None:
        raise K8sError("error_no_sizing")
    return best


SIZING_KEY = "ch09_kubernetes/hpa_sizing.json"  # the learner's HPA sizing


def save_sizing(settings: Settings, learner: str, config: HpaConfig) -> None:
    """Save the learner's HPA choice (min, max, target) for the sizing exercise."""
    data = {
        "min_replicas": config.min_replicas,
        "max_replicas": config.max_replicas,
        "target_cpu": config.target_cpu,
        "at": time.time(),
    }
    records_for(settings, learner).put_json(SIZING_KEY, data)


def check_hpa_sizing(
    ctx: CheckContext, peak_rps: float = 400.0, slo_ms: float = 150.0, tolerance: float = 0.05
) -> CheckResult:
    """Passed when the saved HPA keeps the worst p95 under `slo_ms` on the exercise's day, at most
    `tolerance` above the cheapest setting that does, with at least 2 replicas."""
    saved = records_for(ctx.settings, ctx.learner).get_json(SIZING_KEY)
    try:
        config = HpaConfig(int(saved["min_replicas"]), int(saved["max_replicas"]), int(saved["target_cpu"]))
    except (KeyError, TypeError, ValueError):
        return failed(translate("k8s.check_no_sizing", ctx.lang))
    if config.min_replicas < 2:
        return failed(translate("k8s.check_min_two", ctx.lang))
    result = simulate_autoscaling(sizing_traffic(peak_rps), config, slo_ms)
    high, target, best_cost = cheapest_sizing(peak_rps, slo_ms)
    evidence = {
        "min": config.min_replicas,
        "max": config.max_replicas,
        "target": config.target_cpu,
        "p95_ms": round(result.peak_p95_ms, 1),
        "cost": round(result.cost, 3),
        "best_cost": round(best_cost, 3),
    }
    if result.peak_p95_ms > slo_ms:
        return failed(
            translate(
                "k8s.check_too_slow",
                ctx.lang,
                p95=min(result.peak_p95_ms, SATURATED_MS),
                slo=slo_ms,
                minutes=result.minutes_over_slo,
            ),
            evidence=evidence,
        )
    if result.cost > best_cost * (1 + tolerance):
        return failed(
            translate(
                "k8s.check_too_expensive",
                ctx.lang,
                cost=result.cost,
                best=best_cost,
                extra=100 * (result.cost / best_cost - 1),
            ),
            evidence=evidence,
        )
    detail = translate(
        "k8s.check_sizing_ok", ctx.lang, p95=result.peak_p95_ms, slo=slo_ms, cost=result.cost, best=best_cost
    )
    return passed(detail, evidence=evidence)
