"""How many instances carry a stated request rate, at which batch, with what latency.

A fleet of `n` instances, each holding `r` replicas, shares `Q` requests/s evenly: each replica
sees λ = Q ÷ (n·r). A replica batches requests dynamically (a batcher that waits for `b`
requests, as Triton's or TorchServe's dynamic batching does with a queue delay) and runs a
batch in S(b), the projected time of that batch. Per replica:

    capacity      = b ÷ S(b)                    requests/s it can complete
    utilisation ρ = λ ÷ capacity                must stay ≤ the utilisation ceiling (headroom)
    fill          = (b − 1) ÷ λ                 the first request of a batch waits for the rest
    queueing      ≈ 2.3 × ρ·S(b) ÷ (2(1 − ρ))   p90 of the wait behind earlier batches: the
                                                M/D/1 mean wait, × ln 10 for an exponential tail
    latency p90   ≈ fill + queueing + S(b)

The fleet is the fewest instances for which some batch ≤ max_batch fits memory, keeps ρ under
the ceiling and the p90 latency under the objective; among those batches, the one with the
lowest p90 latency. This is a planner model (stated, not measured): real batchers cap the fill
with a timeout, and traffic is rarely Poisson, so treat the latency as an estimate, not a bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

#: p90 of an exponential wait ÷ its mean (ln 10).
P90_OVER_MEAN = math.log(10.0)

#: Batches tried at load: small batches matter most at low rates (fill time), large ones at
#: high rates; a geometric ladder keeps a re-plan fast (each is one projection).
BATCH_LADDER = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


@dataclass(frozen=True)
class FleetAtLoad:
    """One way to carry the load on one instance type."""

    instances: int
    batch: int
    batch_s: float  # S(b): projected time of one batch
    latency_p90_s: float  # fill + queueing + S(b)
    utilization: float  # ρ per replica (the fleet's share of its capacity in use)


def latency_at_load_s(batch: int, batch_s: float, rate_per_replica: float) -> tuple[float, float]:
    """(p90 latency in s, utilisation ρ) of one replica at `rate_per_replica` requests/s;
    (inf, ρ) when the replica cannot keep up (ρ ≥ 1)."""
    capacity = batch / batch_s
    rho = rate_per_replica / capacity
    if rho >= 1.0:
        return math.inf, rho
    fill = (batch - 1) / rate_per_replica if rate_per_replica > 0 else 0.0
    queue = P90_OVER_MEAN * rho * batch_s / (2.0 * (1.0 - rho))
    return fill + queue + batch_s, rho


def size_fleet(
    qps: float,
    replicas_per_instance: int,
    batch_time_s: Callable[[int], float],
    fits: Callable[[int], bool],
    *,
    max_batch: int,
    utilization_ceiling: float,
    slo_s: float | None,
) -> FleetAtLoad | None:
    """The fewest instances (and the batch) that carry `qps`; None when no instance count can
    (batch 1 alone misses the objective, or not even batch 1 fits memory)."""
    batches = [b for b in BATCH_LADDER if b <= max_batch and fits(b)]
    if not batches:
        return None
    times = {b: batch_time_s(b) for b in batches}

    def best_at(n: int) -> FleetAtLoad | None:
        lam = qps / (n * replicas_per_instance)
        best: FleetAtLoad | None = None
        for b in batches:
            lat, rho = latency_at_load_s(b, times[b], lam)
            if rho > utilization_ceiling or (slo_s is not None and lat > slo_s) or not math.isfinite(lat):
                continue
            if best is None or lat < best.latency_p90_s:
                best = FleetAtLoad(n, b, times[b], lat, rho)
        return best

    # lower bound: every replica at its best capacity, at the ceiling
    top = max(b / times[b] for b in batches)
    n = max(1, math.ceil(qps / (replicas_per_instance * top * utilization_ceiling) - 1e-9))
    # enough instances that batch 1 alone runs below the ceiling (beyond that, more instances only
    # add fill time to bigger batches and no queueing to batch 1)
    n_b1 = max(n, math.ceil(qps * times[batches[0]] / (replicas_per_instance * utilization_ceiling) - 1e-9))
    if slo_s is not None and times[batches[0]] > slo_s:
        return None
    # feasibility is nearly monotone in n: scan up in growing steps, then back to the first
    checked = n - 1  # the largest count known not to work
    step = 1
    while n <= n_b1 * 4 + 4:
        found = best_at(n)
        if found is not None:
            for m in range(checked + 1, n):
                earlier = best_at(m)
                if earlier is not None:
                    return earlier
            return found
        checked = n
        n += step
        step *= 2
    return None
