"""Data-driven segment discovery: k-means on standardized behavioural features.

Each feature is described by a ``Trait`` (its column, the words for a cluster well above or below
the average, and whether it is heavy-tailed and so log1p-transformed before standardizing). The
number of clusters k is the one with the highest silhouette over ``k_range`` (ties: the smaller k),
every k's silhouette is recorded, and stability is the adjusted Rand index between the chosen
clustering and clusterings refitted on bootstrap resamples. Clusters are numbered 1..k by size
(largest first) and named by rule from their standardized centroids. The same data and seed always
give the same result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits

# A centroid this many standard deviations from the mean makes a trait part of the cluster's name.
NAME_THRESHOLD_SD = 0.5
# Traits shown in a cluster's profile sentence.
PROFILE_TRAITS = 4


@dataclass(frozen=True)
class Trait:
    column: str
    high: str
    low: str
    log: bool = False


@dataclass
class Segmentation:
    """The chosen clustering, its quality figures and one profile row per cluster."""

    k: int
    labels: np.ndarray
    silhouette_by_k: dict[int, float]
    stability_ari: list[float]
    profiles: pd.DataFrame

    @property
    def silhouette(self) -> float:
        return self.silhouette_by_k[self.k]

    @property
    def mean_stability_ari(self) -> float:
        return float(np.mean(self.stability_ari))


def standardize(frame: pd.DataFrame, traits: list[Trait]) -> np.ndarray:
    """Trait columns as a float matrix: log1p where asked, then z-scores (constant columns -> 0)."""
    columns = []
    for trait in traits:
        values = frame[trait.column].to_numpy(dtype=float)
        if trait.log:
            values = np.log1p(np.clip(values, 0.0, None))
        spread = values.std()
        columns.append((values - values.mean()) / (spread if spread > 0 else 1.0))
    return np.column_stack(columns)


def _kmeans(k: int, seed: int, n_init: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed)


def _canonical(labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Relabel clusters 1..k by size (largest first), ties broken by centroid coordinates."""
    sizes = np.bincount(labels, minlength=len(centers))
    order = sorted(range(len(centers)), key=lambda c: (-sizes[c], tuple(centers[c])))
    mapping = np.empty(len(centers), dtype=int)
    mapping[order] = np.arange(1, len(centers) + 1)
    return mapping[labels]


def _trait_words(z: pd.Series, traits: list[Trait], count: int) -> list[str]:
    ranked = sorted(traits, key=lambda t: (-abs(z[t.column]), t.column))
    strong = [t for t in ranked if abs(z[t.column]) >= NAME_THRESHOLD_SD][:count]
    return [t.high if z[t.column] > 0 else t.low for t in strong]


def name_clusters(centroids_z: pd.DataFrame, traits: list[Trait], typical: str) -> list[str]:
    """Readable, unique names from standardized centroids: the two strongest traits (at least
    ``NAME_THRESHOLD_SD`` from the mean), a third where two clusters would share a name, and
    ``typical`` for a cluster with no strong trait; a number settles any remaining clash."""
    names = [" & ".join(_trait_words(row, traits, 2)) or typical for _, row in centroids_z.iterrows()]
    for position, (_, row) in enumerate(centroids_z.iterrows()):
        if names.count(names[position]) > 1:
            names[position] = " & ".join(_trait_words(row, traits, 3)) or typical
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if names.count(name) == 1 else f"{name} {seen[name]}")
    return unique


def _profile_sentence(z: pd.Series, means: pd.Series, traits: list[Trait]) -> str:
    ranked = sorted(traits, key=lambda t: (-abs(z[t.column]), t.column))[:PROFILE_TRAITS]
    return "; ".join(f"{t.column} {means[t.column]:,.3g} ({z[t.column]:+.1f} sd)" for t in ranked)


def discover_segments(
    frame: pd.DataFrame,
    traits: list[Trait],
    *,
    k_range: range = range(2, 9),
    n_bootstrap: int = 20,
    seed: int = 0,
    max_fit_rows: int = 20_000,
    silhouette_rows: int = 3_000,
    typical: str = "Typical",
) -> Segmentation:
    """Cluster the rows of ``frame`` (no missing values in the trait columns) with k-means.

    The model is fitted on at most ``max_fit_rows`` rows (a seeded sample) and every row is then
    assigned to its nearest centroid; silhouettes use a seeded sample of ``silhouette_rows``.
    Runs single-threaded: OpenMP threads competing with DuckDB's make k-means ~20x slower here.
    """
    with threadpool_limits(limits=1):
        return _discover(frame, traits, k_range, n_bootstrap, seed, max_fit_rows, silhouette_rows, typical)


def _discover(
    frame: pd.DataFrame,
    traits: list[Trait],
    k_range: range,
    n_bootstrap: int,
    seed: int,
    max_fit_rows: int,
    silhouette_rows: int,
    typical: str,
) -> Segmentation:
    columns = [t.column for t in traits]
    if frame[columns].isna().any().any():
        raise ValueError("discover_segments needs complete rows; filter missing values first")
    rng = np.random.default_rng(seed)
    x = standardize(frame, traits)
    fit_rows = np.sort(rng.choice(len(x), max_fit_rows, replace=False)) if len(x) > max_fit_rows else np.arange(len(x))
    x_fit = x[fit_rows]
    candidates = [k for k in k_range if 2 <= k < len(x_fit)]
    if not candidates:
        raise ValueError(f"too few rows ({len(x_fit)}) to cluster with k in {list(k_range)}")

    silhouette_by_k, models = {}, {}
    for k in candidates:
        models[k] = _kmeans(k, seed, n_init=10).fit(x_fit)
        silhouette_by_k[k] = round(
            float(silhouette_score(x_fit, models[k].labels_, sample_size=min(silhouette_rows, len(x_fit)), random_state=seed)),
            4,
        )
    best_k = max(candidates, key=lambda k: (silhouette_by_k[k], -k))
    model = models[best_k]
    labels = _canonical(model.predict(x), model.cluster_centers_)

    reference = model.predict(x_fit)
    stability = []
    for b in range(n_bootstrap):
        resample = rng.integers(0, len(x_fit), len(x_fit))
        refit = _kmeans(best_k, seed + 1 + b, n_init=3).fit(x_fit[resample])
        stability.append(round(float(adjusted_rand_score(reference, refit.predict(x_fit))), 4))

    z = pd.DataFrame(x, columns=columns).groupby(labels).mean()
    means = frame[columns].astype(float).groupby(labels).mean()
    sizes = pd.Series(labels).value_counts().sort_index()
    profiles = pd.DataFrame(
        {
            "cluster": z.index.astype(int),
            "size": sizes.to_numpy(dtype=int),
            "share": (sizes / len(labels)).round(4).to_numpy(),
            "name": name_clusters(z, traits, typical),
            "profile": [_profile_sentence(z.loc[c], means.loc[c], traits) for c in z.index],
        }
    )
    for column in columns:
        profiles[f"mean_{column}"] = means[column].round(4).to_numpy()
        profiles[f"z_{column}"] = z[column].round(4).to_numpy()
    return Segmentation(k=best_k, labels=labels, silhouette_by_k=silhouette_by_k, stability_ari=stability, profiles=profiles)
