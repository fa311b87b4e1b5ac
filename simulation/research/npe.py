"""Neural posterior estimation with sbi: the parts that do not know about files or jobs.

Why sbi's NPE rather than a sampler: one design of prior simulations is learned once (every run
is reused, none is thrown away by a tolerance), the posterior is *amortised* (it can be asked for
any observation), and that is what makes simulation-based calibration affordable: the posterior
of each of hundreds of synthetic truths costs a forward pass, not a new fit.

Coordinates. The network works in ``phi = logit(u)``, where ``u`` is a parameter's prior CDF
(:meth:`simulation.model.params.Param.from_unit`: uniform, or log-uniform over ranges spanning
10x or more). The prior on ``phi`` is then a standard logistic in every dimension, unbounded, so
no posterior mass can leak outside the registry ranges and nothing has to be rejected.

Model discrepancy. A published national figure is not one draw of a simulated local authority.
Every summary gets a discrepancy term with standard deviation equal to half the width of its
published range, and summaries of one family (the same series in several years, or one release
cut several ways) are correlated ``family_correlation`` within the family, so a series counted
in four years is not four independent pieces of evidence. The term is drawn into the training
simulations (and into the synthetic truths of the calibration check), so the network learns
``p(theta | simulation + discrepancy)``; see Ward et al. 2022 on NPE under misspecification.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import dataclass

import numpy as np

EPS = 1e-7  # u is kept in [EPS, 1 - EPS] so that logit(u) stays finite


# --- coordinates -------------------------------------------------------------------------


def to_unit(names, theta: np.ndarray) -> np.ndarray:
    """Parameters -> their prior CDF values (the inverse of ``Param.from_unit``)."""
    from simulation.model.params import PARAMS

    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    u = np.empty_like(theta)
    for j, name in enumerate(names):
        u[:, j] = PARAMS[name].to_unit(theta[:, j])
    return np.clip(u, EPS, 1 - EPS)


def from_unit(names, u: np.ndarray) -> np.ndarray:
    from simulation.model.params import PARAMS

    u = np.atleast_2d(np.asarray(u, dtype=float))
    out = np.empty_like(u)
    for j, name in enumerate(names):
        p = PARAMS[name]
        out[:, j] = [p.from_unit(float(v)) for v in u[:, j]]
    return out


def logit(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, EPS, 1 - EPS)
    return np.log(u) - np.log1p(-u)


def expit(phi: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-phi))


# --- summaries and discrepancy -----------------------------------------------------------


@dataclass(frozen=True)
class Summaries:
    """The fitted figures: which stored value each is (``metric@year``), and its published range."""

    ids: tuple[str, ...]
    keys: tuple[str, ...]
    observed: np.ndarray
    sigma: np.ndarray  # discrepancy standard deviation: half the published range
    family: tuple[str, ...]

    @classmethod
    def from_targets(cls, targets) -> Summaries:
        return cls(
            ids=tuple(targets["id"]),
            keys=tuple(f"{m}@{int(y)}" for m, y in zip(targets["metric"], targets["academic_year"], strict=True)),
            observed=targets["value"].to_numpy(float),
            sigma=((targets["high"] - targets["low"]) / 2).to_numpy(float),
            family=tuple(targets["family"]),
        )

    def matrix(self, values: list[dict]) -> np.ndarray:
        """(runs, summaries) from the stored ``{"metric@year": value}`` of each run; NaN where absent."""
        return np.array([[float(v.get(k, np.nan)) for k in self.keys] for v in values]).reshape(
            len(values), len(self.keys)
        )

    def covariance(self, family_correlation: float) -> np.ndarray:
        same = np.equal.outer(np.array(self.family), np.array(self.family))
        corr = np.where(same, family_correlation, 0.0)
        np.fill_diagonal(corr, 1.0)
        return corr * np.outer(self.sigma, self.sigma)


def discrepancy(n: int, cov: np.ndarray, seed: int) -> np.ndarray:
    """``n`` draws of the discrepancy term, a pure function of the seed."""
    rng = np.random.default_rng([int(seed), 0xD15C])
    return rng.multivariate_normal(np.zeros(len(cov)), cov, size=n, method="cholesky")


def fill_missing(x: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """A summary a run could not compute (no tribunal hearings in a small LA) takes ``fill``."""
    return np.where(np.isfinite(x), x, fill)


# --- screening ---------------------------------------------------------------------------


def first_order_shares(u: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(parameters, summaries): the share of each summary's variance over the design that each
    parameter explains alone, from one least-squares fit of every summary on a quadratic in each
    prior quantile (no interactions). With independent prior draws this estimates the first-order
    Sobol index; interactions, which it misses, only add to what a parameter does."""
    n, d = u.shape
    basis = np.column_stack([np.ones(n), u - 0.5, (u - 0.5) ** 2 - 1 / 12])
    with np.errstate(all="ignore"):
        xs = (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0)
    xs = np.where(np.isfinite(xs), xs, 0.0)
    coef, *_ = np.linalg.lstsq(basis, xs, rcond=None)
    lin, quad = coef[1 : d + 1], coef[d + 1 :]
    var_lin = (u - 0.5).var(axis=0)[:, None]
    var_quad = ((u - 0.5) ** 2).var(axis=0)[:, None]
    return lin**2 * var_lin + quad**2 * var_quad  # each summary has variance 1


# --- the network -------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    model: str = "maf"
    hidden: int = 128
    transforms: int = 5
    batch: int = 256
    learning_rate: float = 5e-4
    stop_after_epochs: int = 20
    max_epochs: int = 400


def _torch(seed: int):
    import torch

    torch.manual_seed(int(seed) % 2**63)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    return torch


class _NoTracking:
    """sbi logs training to TensorBoard files in ./sbi-logs by default; the job keeps its own record."""

    log_dir = ""

    def log_metric(self, name, value, step=None) -> None:
        pass

    def log_metrics(self, metrics, step=None) -> None:
        pass

    def log_params(self, params) -> None:
        pass

    def add_figure(self, name, figure, step=None) -> None:
        pass

    def flush(self) -> None:
        pass


def logistic_prior(d: int):
    """Independent standard logistics: the uniform prior on u, seen in logit coordinates."""
    import torch
    from torch.distributions import Independent, SigmoidTransform, TransformedDistribution, Uniform

    class Logistic(TransformedDistribution):
        # sbi standardises theta with the prior's mean and sd; given, they need not be estimated
        @property
        def mean(self):
            return torch.zeros(d)

        @property
        def stddev(self):
            return torch.full((d,), math.pi / math.sqrt(3))

    return Logistic(Independent(Uniform(torch.zeros(d), torch.ones(d)), 1), [SigmoidTransform().inv])


def train(phi: np.ndarray, x: np.ndarray, seed: int, net: Network = Network()):
    """Fit q(phi | x) on the design; returns (posterior, training summary)."""
    torch = _torch(seed)
    from sbi.inference import NPE
    from sbi.neural_nets import posterior_nn

    prior = logistic_prior(phi.shape[1])
    builder = posterior_nn(model=net.model, hidden_features=net.hidden, num_transforms=net.transforms)
    inference = NPE(prior=prior, density_estimator=builder, show_progress_bars=False, tracker=_NoTracking())
    inference.append_simulations(torch.as_tensor(phi, dtype=torch.float32), torch.as_tensor(x, dtype=torch.float32))
    with contextlib.redirect_stdout(io.StringIO()):  # sbi prints "converged after N epochs"; the job says it
        estimator = inference.train(
            training_batch_size=net.batch,
            learning_rate=net.learning_rate,
            stop_after_epochs=net.stop_after_epochs,
            max_num_epochs=net.max_epochs,
        )
    summary = inference.summary
    info = {
        "epochs": int(summary["epochs_trained"][-1]),
        "best_validation_loss": float(summary["best_validation_loss"][-1]),
    }
    return inference.build_posterior(estimator), estimator, info


def posterior_from(estimator, d: int):
    """A posterior around a saved estimator (resume without training again)."""
    from sbi.inference import DirectPosterior

    return DirectPosterior(estimator, logistic_prior(d))


def sample(posterior, x: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` independent draws of phi given one observation."""
    torch = _torch(seed)
    x = torch.tensor(np.asarray(x, dtype=np.float32)[None, :])
    out = posterior.sample((n,), x=x, show_progress_bars=False)
    return out.numpy().astype(float)


def sample_many(posterior, xs: np.ndarray, n: int, seed: int, batch: int = 50) -> np.ndarray:
    """(observations, n, d) draws, one observation after another in batches (memory stays small)."""
    torch = _torch(seed)
    parts = []
    batch = max(1, min(batch, 8000 // n))  # sbi caps one sampling batch at about 8,000 draws
    for i in range(0, len(xs), batch):
        x = torch.tensor(np.asarray(xs[i : i + batch], dtype=np.float32))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Capping max_sampling_batch_size")  # sbi's own memory cap
            s = posterior.sample_batched((n,), x=x, show_progress_bars=False, max_sampling_batch_size=n * len(x))
        parts.append(np.transpose(s.numpy(), (1, 0, 2)).astype(float))
    return np.concatenate(parts)


def log_prob(posterior, phi: np.ndarray, x: np.ndarray, batch: int = 20_000) -> np.ndarray:
    """log q(phi | x) for many phi at one observation (unnormalised for leakage: the logistic
    prior has full support, so there is none)."""
    import torch

    xt = torch.tensor(np.asarray(x, dtype=np.float32)[None, :])
    out = []
    with torch.no_grad():
        for i in range(0, len(phi), batch):
            t = torch.as_tensor(np.asarray(phi[i : i + batch], dtype=np.float32))
            out.append(posterior.log_prob(t, x=xt, norm_posterior=False).numpy().astype(float))
    return np.concatenate(out) if out else np.zeros(0)


def hpd_threshold(posterior, x: np.ndarray, quantile: float, seed: int, n: int = 20_000) -> float:
    """The log density above which q(. | x) holds 1 - ``quantile`` of its mass (its highest-density
    region), from ``n`` of its own draws."""
    phi = sample(posterior, x, n, seed)
    return float(np.quantile(log_prob(posterior, phi, x), quantile))


def sample_truncated(posterior, x, d: int, n: int, threshold: float, seed: int, batch: int = 50_000, max_draws=10**8):
    """``n`` draws of the prior restricted to q's highest-density region at ``x`` (truncated
    sequential NPE, Deistler et al. 2022), by rejection from the prior; and the acceptance rate.

    Inside the region the training mixture of prior and truncated prior is proportional to the
    prior, so the standard NPE loss on both rounds stays unbiased there: no proposal correction."""
    rng = np.random.default_rng(seed)
    kept, drawn, accepted = [], 0, 0
    while accepted < n:
        if drawn >= max_draws:
            raise RuntimeError(
                f"truncated prior: {accepted} of {n} draws accepted in {drawn:,} prior draws; the region is "
                "too small for rejection (raise truncation.quantile)"
            )
        phi = logit(rng.random((batch, d)))
        keep = phi[log_prob(posterior, phi, x) >= threshold]
        kept.append(keep)
        drawn += batch
        accepted += len(keep)
    return np.concatenate(kept)[:n], accepted / drawn


# --- checks ------------------------------------------------------------------------------


def coverage(truth: np.ndarray, draws: np.ndarray, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Per truth and parameter: inside the central ``level`` interval of its draws? And the rank
    of the truth among the draws (uniform on 0..n when the posterior is calibrated)."""
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=1)
    inside = (truth >= lo) & (truth <= hi)
    ranks = (draws < truth[:, None, :]).sum(axis=1)
    return inside, ranks


def binomial_band(n: float, p: float = 0.9, z: float = 1.96) -> tuple[float, float]:
    """Where the coverage of ``n`` truths lies 95% of the time if the intervals are right."""
    half = z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


def mixture_coverage(inside: list[np.ndarray], weights) -> tuple[np.ndarray, float]:
    """Coverage over truths drawn from a mixture of proposals, each group of truths weighted by
    its share of the mixture; and the effective number of truths, for :func:`binomial_band`."""
    w = np.asarray(weights, float) / np.sum(weights)
    cov = sum(wi * g.mean(axis=0) for wi, g in zip(w, inside, strict=True))
    n_eff = 1.0 / sum(wi**2 / len(g) for wi, g in zip(w, inside, strict=True))
    return cov, n_eff


def effective_sample_size(draws: np.ndarray) -> np.ndarray:
    """Per parameter, an ESS estimate from the draws' lag autocorrelations (initial positive
    sequence). NPE draws are independent by construction, so this checks the claim rather than
    assuming it: a sampler that repeated itself would show it here."""
    x = np.asarray(draws, float)
    n = len(x)
    out = np.empty(x.shape[1])
    for j in range(x.shape[1]):
        c = x[:, j] - x[:, j].mean()
        var = c @ c / n
        if var == 0:
            out[j] = 1.0
            continue
        acf = np.correlate(c, c, mode="full")[n - 1 :] / (var * n)
        tau, m = -1.0, 0  # Geyer (1992): tau = -1 + 2 * sum of the positive pair sums
        while 2 * m + 1 < n:
            pair = acf[2 * m] + acf[2 * m + 1]
            if pair <= 0:
                break
            tau += 2 * pair
            m += 1
        out[j] = n / max(tau, 1e-12)
    return np.minimum(out, n)
