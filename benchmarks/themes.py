"""Theme quality and speed for both backends on labelled feedback, with items/second and ratios.

    .venv/bin/python benchmarks/themes.py [--scale 10] [--no-embedding]

Labelled sets: the hand-written one (14 themes x 25) and the demo simulator's generator (15 themes x 25).
For each backend: adjusted Rand index and purity against the true themes, clustering items/second (model load
reported apart), and incremental assignment: items/second placing the second half of a set on the centroids
fitted on the first half, the share placed above the similarity threshold, and the ARI of those placements. The peer
is the other backend measured in the same run; --scale repeats the TF-IDF run on N times more items.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
os.environ.setdefault("SMARKETING_DATA_DIR", os.path.join("/tmp", "smarketing-bench"))


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="TF-IDF scale run: this many times the labelled set")
    parser.add_argument("--no-embedding", action="store_true", help="Skip the embedding backend")
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np

    from smarketing.feedback import themes_engine as engine
    from smarketing.feedback.quality import score
    from smarketing.feedback.tests.labelled import demo_labelled, labelled_feedback

    sets = {"hand-written": labelled_feedback(per_theme=25, seed=7), "demo simulator": demo_labelled(per_theme=25, seed=3)}
    encode: Any = None
    if not args.no_embedding:
        from smarketing.feedback import embeddings

        _, load_s = _timed(embeddings.load)
        encode = embeddings.encode
        print(f"embedding model {embeddings.model_name()} loaded in {load_s:.1f}s (not counted below)")
    print(f"{'set':<16}{'backend':<11}{'items':>6}{'themes':>8}{'found':>7}{'ARI':>7}{'purity':>8}"
          f"{'cluster items/s':>17}{'assign items/s':>16}{'placed':>8}{'placed ARI':>12}")
    speeds: dict[str, list[float]] = {"tfidf": [], "embedding": []}
    for name, data in sets.items():
        texts = [t for t, _ in data]
        truth = [label for _, label in data]
        half = len(texts) // 2
        runs: list[tuple[str, Any]] = [("tfidf", lambda t: engine.cluster_tfidf(t))]
        if encode is not None:
            runs.append(("embedding", lambda t: engine.cluster_embedding(t, embed=encode)))
        for backend, run in runs:
            result, secs = _timed(lambda run=run, texts=texts: run(texts))
            q = score(result.labels, truth)
            # incremental: fit on the first half, place the second half on the stored centroids
            fitted = run(texts[:half])
            if backend == "tfidf":
                def place(fitted: Any = fitted, new: list[str] = texts[half:]) -> Any:
                    vecs = engine.tfidf_transform(new, vocabulary=fitted.vocabulary, idf=fitted.idf)
                    return engine.nearest(vecs, engine.centroid_matrix(fitted.centroids, vocabulary=fitted.vocabulary),
                                          threshold=0.12)
            else:
                def place(fitted: Any = fitted, new: list[str] = texts[half:]) -> Any:
                    vecs = encode(engine.prepare(new))
                    return engine.nearest(vecs, engine.centroid_matrix(fitted.centroids), threshold=0.35)
            placed, assign_secs = _timed(place)
            rate = len(texts) / secs
            speeds[backend].append(rate)
            # how well new items land: share above the threshold, and ARI of those against their true themes
            hits = [(j, t) for (j, _), t in zip(placed, truth[half:], strict=True) if j >= 0]
            placed_ari = score([j for j, _ in hits], [t for _, t in hits]).ari if hits else 0.0
            print(f"{name:<16}{backend:<11}{q.items:>6}{q.themes_true:>8}{q.themes_found:>7}{q.ari:>7.3f}"
                  f"{q.purity:>8.3f}{rate:>17,.0f}{len(placed) / assign_secs:>16,.0f}"
                  f"{len(hits) / len(placed):>8.0%}{placed_ari:>12.3f}")
    if speeds["embedding"]:
        ratio = np.mean(speeds["tfidf"]) / np.mean(speeds["embedding"])
        print(f"TF-IDF clusters {ratio:,.1f}x as many items/second as the embedding backend on this machine")
    if args.scale > 1:
        big = labelled_feedback(per_theme=25 * args.scale, seed=11)
        texts = [t for t, _ in big]
        result, secs = _timed(lambda: engine.cluster_tfidf(texts))
        q = score(result.labels, [label for _, label in big])
        print(f"TF-IDF at scale: {len(texts):,} items in {secs:.1f}s = {len(texts) / secs:,.0f} items/s, "
              f"k={result.k}, ARI {q.ari:.3f}, purity {q.purity:.3f} "
              f"(ratio to the {len(sets['hand-written'])}-item run: "
              f"{(len(texts) / secs) / speeds['tfidf'][0]:.2f}x items/s)")


if __name__ == "__main__":
    main()
