"""Times Python's exact nearest-neighbour searches on one of knnet's benchmark workloads.

Run by bench/search/pythonPeers.ts as a subprocess: it reads a JSON request on stdin (the
paths of the training points and queries the bench wrote as raw little-endian arrays, their
shapes, k, the peers to run, the timing rules), and prints one JSON object on stdout. Progress
goes to stderr.

Every peer is built and queried separately: each build is timed `buildRepeats` times (the
first build also warms up) and the best counts; the queries are timed as bench/search/timing.ts
times knnet's rows: probe calls on the first 1, 4, 16, … queries (the last size twice, the
faster counting) to estimate the time per query, a prefix of the queries when all of them would take longer than the budget, one warm-up
call, then the best of `samples` samples, each repeating the call until it lasts
`minSampleSeconds`.
"""
import json
import os
import resource
import sys
import time

import numpy as np


def log(message):
    print(message, file=sys.stderr, flush=True)


PROBE_SECONDS = 0.05


def queries_for_budget(seconds_per_query, total, timing):
    if not seconds_per_query > 0 or seconds_per_query * total <= timing["budgetSeconds"]:
        return total
    affordable = int(timing["budgetSeconds"] / seconds_per_query)
    return affordable // 100 * 100 if affordable >= timing["minimumQueries"] else max(1, affordable)


def time_call(search, queries):
    start = time.perf_counter()
    search(queries)
    return time.perf_counter() - start


def time_search(search, queries, timing):
    """(queries timed, best seconds per call, calls per sample), as timing.ts's timeSearch."""
    total = len(queries)
    largest_probe = min(timing["probeQueries"], total)
    time_call(search, queries[:1])
    probe = 1
    probe_seconds = time_call(search, queries[:probe])
    while probe_seconds < PROBE_SECONDS and probe < largest_probe:
        probe = min(largest_probe, probe * 4)
        probe_seconds = time_call(search, queries[:probe])
    probe_seconds = min(probe_seconds, time_call(search, queries[:probe]))
    count = queries_for_budget(probe_seconds / probe, total, timing)
    prefix = np.ascontiguousarray(queries[:count])
    once = time_call(search, prefix)
    calls = max(1, int(np.ceil(timing["minSampleSeconds"] / max(once, 1e-6))))
    best = float("inf")
    for _ in range(timing["samples"]):
        start = time.perf_counter()
        for _ in range(calls):
            search(prefix)
        best = min(best, (time.perf_counter() - start) / calls)
    return count, best, calls


def tree_peers(k):
    from scipy.spatial import cKDTree
    from sklearn.neighbors import BallTree, KDTree

    cores = os.cpu_count() or 1
    return {
        "ckdtree-1": ("scipy cKDTree (workers=1)", 1, cKDTree, lambda tree, q: tree.query(q, k=k, workers=1)[1]),
        "ckdtree-all": ("scipy cKDTree (workers=-1)", cores, cKDTree, lambda tree, q: tree.query(q, k=k, workers=-1)[1]),
        "sklearn-kdtree": ("scikit-learn KDTree", 1, KDTree, lambda tree, q: tree.query(q, k=k)[1]),
        "sklearn-balltree": ("scikit-learn BallTree", 1, BallTree, lambda tree, q: tree.query(q, k=k)[1]),
    }


def faiss_peers(k, d):
    import faiss

    faiss.omp_set_num_threads(1)

    def flat(kind):
        def build(points):
            index = faiss.IndexFlatIP(d) if kind == "ip" else faiss.IndexFlatL2(d)
            index.add(points)
            return index

        return build

    return {
        "faiss-flat-ip": ("faiss IndexFlatIP (Python, 1 thread)", 1, flat("ip"), lambda index, q: index.search(q, k)[1]),
        "faiss-flat-l2": ("faiss IndexFlatL2 (Python, 1 thread)", 1, flat("l2"), lambda index, q: index.search(q, k)[1]),
    }


def versions(request):
    found = {"python": sys.version.split()[0], "numpy": np.__version__}
    if any(name.startswith("faiss") for name in request["peers"]):
        import faiss

        found["faiss"] = faiss.__version__
    else:
        import scipy
        import sklearn

        found["scipy"] = scipy.__version__
        found["sklearn"] = sklearn.__version__
    return found


def main():
    request = json.load(sys.stdin)
    dtype = np.float32 if request["dtype"] == "float32" else np.float64
    n, d, q, k = request["n"], request["d"], request["q"], request["k"]
    train = np.fromfile(request["train"], dtype=dtype).reshape(n, d)
    queries = np.fromfile(request["queries"], dtype=dtype).reshape(q, d)
    catalogue = faiss_peers(k, d) if request["dtype"] == "float32" else tree_peers(k)
    results = []
    for name in request["peers"]:
        label, threads, build, query = catalogue[name]
        log(f"  {label}: building")
        index = None
        best_build = float("inf")
        for _ in range(request["buildRepeats"]):
            index = None
            start = time.perf_counter()
            index = build(train)
            best_build = min(best_build, time.perf_counter() - start)
        count, seconds, calls = time_search(lambda batch: query(index, batch), queries, request["timing"])
        check = min(request["checkQueries"], q)
        neighbours = np.asarray(query(index, np.ascontiguousarray(queries[:check])), dtype=np.int64)
        results.append({
            "name": name, "label": label, "threads": threads, "buildSeconds": best_build, "queries": count,
            "seconds": seconds, "callsPerSample": calls, "samples": request["timing"]["samples"],
            "neighbours": neighbours.reshape(-1).tolist(),
        })
        log(f"  {label}: {count / seconds:,.0f} queries/s ({count} queries timed), build {best_build:.2f} s")
        index = None
    # ru_maxrss is in kilobytes on Linux.
    print(json.dumps({
        "versions": versions(request), "peers": results,
        "maxRssKilobytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
