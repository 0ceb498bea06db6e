"""scipy's cKDTree as the pruned search's peer: loads the training points and queries that
bench/tree wrote (raw float64, row-major), builds the tree once, then answers one command per
line on stdin with one JSON line on stdout, so the Node side can time it round-robin with
knnet's samples:

    query W    the k nearest of every query with workers=W (1, or -1 for every core):
               {"seconds": wall time of the call, "cpuSeconds": this process's CPU time}
    check R    the k nearest of the first R queries with workers=1: {"distances": [...]}
    exit

Usage: python3 ckdtree.py TRAIN QUERIES N D Q K
"""
import json
import sys
import time

import numpy as np
from scipy.spatial import cKDTree


def main() -> None:
    train_path, queries_path, n, d, q, k = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
    train = np.fromfile(train_path, dtype=np.float64).reshape(n, d)
    queries = np.fromfile(queries_path, dtype=np.float64).reshape(q, d)
    start = time.perf_counter()
    tree = cKDTree(train)
    build = time.perf_counter() - start
    tree.query(queries[: min(q, 100)], k, workers=1)  # warm up
    print(json.dumps({"ready": True, "buildSeconds": build}), flush=True)
    for line in sys.stdin:
        command, *arguments = line.split()
        if command == "exit":
            break
        if command == "query":
            workers = int(arguments[0])
            start = time.perf_counter()
            cpu = time.process_time()
            tree.query(queries, k, workers=workers)
            print(json.dumps({"seconds": time.perf_counter() - start, "cpuSeconds": time.process_time() - cpu}), flush=True)
        elif command == "check":
            rows = int(arguments[0])
            distances, _ = tree.query(queries[:rows], k, workers=1)
            print(json.dumps({"distances": np.asarray(distances).reshape(-1).tolist()}), flush=True)


if __name__ == "__main__":
    main()
