/**
 * Do two searches give the same k nearest neighbours? Indices may differ where points tie: two
 * answers agree on a query when the squared distances of their points, recomputed here by direct
 * differences in float64 and sorted, are equal one for one (and each answer has k distinct
 * indices of training points). Recomputing both sides with one function makes the test exact.
 */

export interface Agreement {
  /** Queries compared. */
  checked: number;
  /** Of them, those whose answers agree. */
  agreeing: number;
  /** The first query that does not agree, described. */
  firstDisagreement?: string;
}

export interface PointSet {
  train: ArrayLike<number>; // n × d
  queries: ArrayLike<number>; // q × d
  n: number;
  d: number;
}

function squaredDistance(points: PointSet, index: number, query: number): number {
  const { train, queries, d } = points;
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const difference = queries[query * d + j] - train[index * d + j];
    sum += difference * difference;
  }
  return sum;
}

/** The row's squared distances, sorted, or a reason it is no answer (an index out of range or repeated). */
function sortedDistances(points: PointSet, row: ArrayLike<number>, query: number): number[] | string {
  const seen = new Set<number>();
  const distances: number[] = [];
  for (let slot = 0; slot < row.length; slot++) {
    const index = row[slot];
    if (!Number.isInteger(index) || index < 0 || index >= points.n) return `index ${index} is not a training point`;
    if (seen.has(index)) return `index ${index} twice`;
    seen.add(index);
    distances.push(squaredDistance(points, index, query));
  }
  return distances.sort((a, b) => a - b);
}

/** Whether `found` gives `expected`'s k nearest on the first `count` queries (both count × k, row-major), ties allowed. */
export function compareNeighbours(points: PointSet, k: number, expected: ArrayLike<number>, found: ArrayLike<number>, count: number): Agreement {
  let agreeing = 0;
  let firstDisagreement: string | undefined;
  const row = (values: ArrayLike<number>, query: number) => Array.from({ length: k }, (_, slot) => values[query * k + slot]);
  for (let query = 0; query < count; query++) {
    const want = sortedDistances(points, row(expected, query), query);
    const got = sortedDistances(points, row(found, query), query);
    const same = typeof want !== 'string' && typeof got !== 'string' && want.every((distance, slot) => distance === got[slot]);
    if (same) {
      agreeing++;
    } else if (firstDisagreement === undefined) {
      const show = (values: number[] | string) => (typeof values === 'string' ? values : `[${values.map((v) => v.toPrecision(6)).join(', ')}]`);
      firstDisagreement = `query ${query}: expected indices [${row(expected, query).join(', ')}] at squared distances ${show(want)}, ` +
        `got [${row(found, query).join(', ')}] at ${show(got)}`;
    }
  }
  return { checked: count, agreeing, firstDisagreement };
}

/** Share of `expected`'s indices that `found` returns, over the first `count` queries (recall@k). */
export function recallAtK(k: number, expected: ArrayLike<number>, found: ArrayLike<number>, count: number): number {
  let kept = 0;
  for (let query = 0; query < count; query++) {
    const wanted = new Set(Array.from({ length: k }, (_, slot) => expected[query * k + slot]));
    for (let slot = 0; slot < k; slot++) if (wanted.has(found[query * k + slot])) kept++;
  }
  return kept / (count * k);
}
