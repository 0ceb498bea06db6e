// The partition of high-dimensional points: K clusters (k-means on a fixed sample, then every
// point to its nearest centre, in one pass that also grows the bounds), each a contiguous range
// of positions in leaf order, with two
// kinds of bound per cluster that a query's distance to every member respects:
//
// - a ball: the centre c_B and a radius R_B ≥ ‖x̃ − c_B‖ for every member x;
// - slabs: for each other cluster A, the interval [lo, hi] of (c_B − c_A)·x̃ over the members
//   x of B. A query q near cluster A is at least (lo − (c_B − c_A)·q̃)/‖c_B − c_A‖ from every
//   member of B: its distance along the line between the two centres. Between separated
//   clusters this is most of the distance, where the ball's bound (‖q̃ − c_B‖ − R_B) is not:
//   in 64 dimensions a blob's radius is about the distance between blob centres.
//
// Measured on the benchmark's Gaussian blobs (10 blobs, 10 000 × 64 and 100 000 × 128, k = 5,
// with the true k-th distance): balls alone rule out 30–36 % of the other clusters, balls and
// slabs 99.4–100 %, so a query scans its own cluster and little else.
//
// Everything is centred on the network's μ (x̃ = x − μ, in float64), so a common offset costs
// no precision. Positions: cluster B holds positions starts[B] … starts[B + 1] − 1; its
// members keep their caller order within it (a stable counting sort), and order[p] is the
// caller's index of position p. The rows of X are permuted in place into this order.
//
// Layout of the cluster data (f64 unless said), for K clusters and d features:
//   starts: K + 1 i32 | centres: K·d (c_B − μ) | radii: K | memberNorms: K (largest ‖x̃‖)
//   centreNorms: K (‖c_B − μ‖, rounded up) | pairLengths: K·K (‖c_B − c_A‖ rounded up)
//   slabs: K·K pairs (lo, hi) of cluster B along A → B, at (B·K + A)·2

const UNIT_ROUNDOFF: f64 = 1.1102230246251565e-16; // 2^-53
const SAMPLE_PER_CLUSTER: i32 = 64;
const SMALLEST_SAMPLE: i32 = 4096;
const LLOYD_ITERATIONS: i32 = 8;

/** The bytes of the cluster data for K clusters of d features (see the layout above). */
export function clusterDataBytes(clusters: i32, d: i32): usize {
  const k = <usize>clusters;
  return align16((k + 1) << 2) + ((k * <usize>d + 3 * k + 3 * k * k) << 3);
}

@inline function align16(bytes: usize): usize {
  return (bytes + 15) & ~<usize>15;
}

/** Where each array of the cluster data starts. */
@unmanaged export class ClusterLayout {
  starts: usize;
  centres: usize;
  radii: usize;
  memberNorms: usize;
  centreNorms: usize;
  pairLengths: usize;
  slabs: usize;
}

/** Fills `layout` for the cluster data at `data`. */
export function layClusters(layout: ClusterLayout, data: usize, clusters: i32, d: i32): void {
  const k = <usize>clusters;
  layout.starts = data;
  layout.centres = data + align16((k + 1) << 2);
  layout.radii = layout.centres + ((k * <usize>d) << 3);
  layout.memberNorms = layout.radii + (k << 3);
  layout.centreNorms = layout.memberNorms + (k << 3);
  layout.pairLengths = layout.centreNorms + (k << 3);
  layout.slabs = layout.pairLengths + ((k * k) << 3);
}

/** The sample the centres are fitted on: every stride-th point, about SAMPLE_PER_CLUSTER per cluster. */
function sampleStride(n: i32, clusters: i32): i32 {
  const wanted = max(SMALLEST_SAMPLE, clusters * SAMPLE_PER_CLUSTER);
  return max(1, n / wanted);
}

// buildClusterPartition's scratch, in this order: the cluster layout's descriptor, the centred
// sample, every point's cluster, the fit's nearest distances, its sums and counts, one centred
// row, and the marks of the rows already moved.
const LAYOUT_PIECE: i32 = 0;
const SAMPLE_PIECE: i32 = 1;
const LABELS_PIECE: i32 = 2;
const NEAREST_PIECE: i32 = 3;
const SUMS_PIECE: i32 = 4;
const COUNTS_PIECE: i32 = 5;
const CENTRED_PIECE: i32 = 6;
const MOVED_PIECE: i32 = 7;
const PIECES: i32 = 8;

function pieceBytes(piece: i32, n: i32, d: i32, clusters: i32): usize {
  const stride = sampleStride(n, clusters);
  const sampleCount = (n + stride - 1) / stride;
  const rowBytes = <usize>d << 3;
  if (piece == LAYOUT_PIECE) return align16(offsetof<ClusterLayout>());
  if (piece == SAMPLE_PIECE) return align16(<usize>sampleCount * rowBytes);
  if (piece == LABELS_PIECE) return align16(<usize>n << 2);
  if (piece == NEAREST_PIECE) return align16(<usize>max(sampleCount, clusters) << 3);
  if (piece == SUMS_PIECE) return align16(<usize>clusters * rowBytes);
  if (piece == COUNTS_PIECE) return align16(<usize>clusters << 3);
  if (piece == CENTRED_PIECE) return align16(rowBytes);
  return align16((<usize>n + 7) >> 3);
}

/** Where piece `piece` of the scratch starts, from its beginning. */
function pieceOffset(piece: i32, n: i32, d: i32, clusters: i32): usize {
  let offset: usize = 0;
  for (let p = 0; p < piece; p++) offset += pieceBytes(p, n, d, clusters);
  return offset;
}

/** Scratch bytes buildClusterPartition needs for n points of d features and K clusters. */
export function clusterPartitionScratchBytes(n: i32, d: i32, clusters: i32): usize {
  return pieceOffset(PIECES, n, d, clusters);
}

/**
 * Σ_j (a_j − b_j)² in two lanes (even and odd dimensions, four at a time), then the lanes and
 * the last odd dimension added: the sum of d squares in another order than dimension order,
 * with the same relative error bound ((d + 1)·2^−53), which is all the bounds use.
 */
@inline export function squaredDistanceLanes(a: usize, b: usize, d: i32): f64 {
  let sum0 = f64x2.splat(0);
  let sum1 = sum0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    const offset = <usize>j << 3;
    const difference0 = f64x2.sub(v128.load(a + offset), v128.load(b + offset));
    const difference1 = f64x2.sub(v128.load(a + offset, 16), v128.load(b + offset, 16));
    sum0 = f64x2.add(sum0, f64x2.mul(difference0, difference0));
    sum1 = f64x2.add(sum1, f64x2.mul(difference1, difference1));
  }
  const sum = f64x2.add(sum0, sum1);
  let total = f64x2.extract_lane(sum, 0) + f64x2.extract_lane(sum, 1);
  for (; j < d; j++) {
    const difference = load<f64>(a + (<usize>j << 3)) - load<f64>(b + (<usize>j << 3));
    total += difference * difference;
  }
  return total;
}

/** Σ_j a_j·b_j in lanes as squaredDistanceLanes: error at most γ_d·Σ|a_j b_j|, whatever the order. */
@inline export function dotLanes(a: usize, b: usize, d: i32): f64 {
  let sum0 = f64x2.splat(0);
  let sum1 = sum0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    const offset = <usize>j << 3;
    sum0 = f64x2.add(sum0, f64x2.mul(v128.load(a + offset), v128.load(b + offset)));
    sum1 = f64x2.add(sum1, f64x2.mul(v128.load(a + offset, 16), v128.load(b + offset, 16)));
  }
  const sum = f64x2.add(sum0, sum1);
  let total = f64x2.extract_lane(sum, 0) + f64x2.extract_lane(sum, 1);
  for (; j < d; j++) total += load<f64>(a + (<usize>j << 3)) * load<f64>(b + (<usize>j << 3));
  return total;
}

/** Writes x̃ = x − μ of one row to `out`. */
@inline function centre(row: usize, mean: usize, d: i32, out: usize): void {
  for (let j = 0; j < d; j++) store<f64>(out + (<usize>j << 3), load<f64>(row + (<usize>j << 3)) - load<f64>(mean + (<usize>j << 3)));
}

/** The centre nearest `point` among K (ties to the lower). */
function nearestCentre(point: usize, centres: usize, clusters: i32, d: i32): i32 {
  let best = 0;
  let bestDistance: f64 = Infinity;
  for (let c = 0; c < clusters; c++) {
    const distance = squaredDistanceLanes(point, centres + (<usize>c * <usize>d << 3), d);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = c;
    }
  }
  return best;
}

/**
 * Fits K centres on the sample (centred rows): the first is the sample point farthest from μ,
 * each next the one farthest from those chosen (deterministic, and it seeds every separated
 * group), then LLOYD_ITERATIONS rounds of Lloyd's algorithm. A centre left with no sample
 * point keeps its place.
 */
function fitCentres(sample: usize, count: i32, d: i32, clusters: i32, centres: usize, nearest: usize, sums: usize, counts: usize): void {
  const rowBytes = <usize>d << 3;
  let first = 0;
  let farthest: f64 = -1;
  for (let s = 0; s < count; s++) {
    const norm = dotLanes(sample + <usize>s * rowBytes, sample + <usize>s * rowBytes, d);
    if (norm > farthest) {
      farthest = norm;
      first = s;
    }
  }
  memory.copy(centres, sample + <usize>first * rowBytes, rowBytes);
  for (let s = 0; s < count; s++) store<f64>(nearest + (<usize>s << 3), squaredDistanceLanes(sample + <usize>s * rowBytes, centres, d));
  for (let c = 1; c < clusters; c++) {
    let pick = 0;
    farthest = -1;
    for (let s = 0; s < count; s++) {
      const distance = load<f64>(nearest + (<usize>s << 3));
      if (distance > farthest) {
        farthest = distance;
        pick = s;
      }
    }
    const centre = centres + <usize>c * rowBytes;
    memory.copy(centre, sample + <usize>pick * rowBytes, rowBytes);
    for (let s = 0; s < count; s++) {
      const at = nearest + (<usize>s << 3);
      store<f64>(at, Math.min(load<f64>(at), squaredDistanceLanes(sample + <usize>s * rowBytes, centre, d)));
    }
  }
  for (let iteration = 0; iteration < LLOYD_ITERATIONS; iteration++) {
    memory.fill(sums, 0, <usize>clusters * rowBytes);
    memory.fill(counts, 0, <usize>clusters << 3);
    for (let s = 0; s < count; s++) {
      const row = sample + <usize>s * rowBytes;
      const c = nearestCentre(row, centres, clusters, d);
      const sum = sums + <usize>c * rowBytes;
      for (let j = 0; j < d; j++) store<f64>(sum + (<usize>j << 3), load<f64>(sum + (<usize>j << 3)) + load<f64>(row + (<usize>j << 3)));
      store<f64>(counts + (<usize>c << 3), load<f64>(counts + (<usize>c << 3)) + 1);
    }
    for (let c = 0; c < clusters; c++) {
      const members = load<f64>(counts + (<usize>c << 3));
      if (members == 0) continue;
      const centre = centres + <usize>c * rowBytes;
      const sum = sums + <usize>c * rowBytes;
      for (let j = 0; j < d; j++) store<f64>(centre + (<usize>j << 3), load<f64>(sum + (<usize>j << 3)) / members);
    }
  }
}

/**
 * Builds the cluster partition of n row-major points (d features, centred on `mean`) in place:
 * fits K centres, gives each point to its nearest, permutes the rows into cluster order,
 * writes order[p], and fills the cluster data (`data`, clusterDataBytes(K, d)) with every
 * cluster's range, ball and slabs. `scratch` holds clusterPartitionScratchBytes(n, d, K). K ≥ 1.
 *
 * The centres stay the sample's k-means centres (no member need be the nearest to its own for
 * the bounds to hold). The bounds are stored as computed, norms, pair lengths and radii rounded
 * up; the search adds the margins that make them safe (clusterBound in assembly/clusterSearch.ts).
 */
export function buildClusterPartition(points: usize, n: i32, d: i32, mean: usize, clusters: i32, order: usize, data: usize, scratch: usize): void {
  const layout = changetype<ClusterLayout>(scratch + pieceOffset(LAYOUT_PIECE, n, d, clusters));
  const sample = scratch + pieceOffset(SAMPLE_PIECE, n, d, clusters);
  const labels = scratch + pieceOffset(LABELS_PIECE, n, d, clusters);
  const nearest = scratch + pieceOffset(NEAREST_PIECE, n, d, clusters);
  const sums = scratch + pieceOffset(SUMS_PIECE, n, d, clusters);
  const counts = scratch + pieceOffset(COUNTS_PIECE, n, d, clusters);
  const centred = scratch + pieceOffset(CENTRED_PIECE, n, d, clusters);
  const moved = scratch + pieceOffset(MOVED_PIECE, n, d, clusters);
  const stride = sampleStride(n, clusters);
  const sampleCount = (n + stride - 1) / stride;
  const rowBytes = <usize>d << 3;
  layClusters(layout, data, clusters, d);
  for (let s = 0; s < sampleCount; s++) centre(points + <usize>(s * stride) * rowBytes, mean, d, sample + <usize>s * rowBytes);
  fitCentres(sample, sampleCount, d, clusters, layout.centres, nearest, sums, counts);

  startBounds(d, clusters, layout);
  for (let c = 0; c < clusters; c++) {
    const centreRow = layout.centres + <usize>c * rowBytes;
    store<f64>(sums + (<usize>c << 3), dotLanes(centreRow, centreRow, d));
  }
  // One pass: every point to its nearest centre (by ‖c‖² − 2·c·x̃, the expansion without the
  // point's own norm: the choice need not be exact, only the bounds must hold), and the
  // cluster's bounds grown by it. `nearest` holds the point's dot products with the centres.
  memory.fill(counts, 0, <usize>clusters << 3);
  for (let i = 0; i < n; i++) {
    centre(points + <usize>i * rowBytes, mean, d, centred);
    let best = 0;
    let bestValue: f64 = Infinity;
    for (let c = 0; c < clusters; c++) {
      const centreRow = layout.centres + <usize>c * rowBytes;
      const product = dotLanes(centreRow, centred, d);
      store<f64>(nearest + (<usize>c << 3), product);
      const value = load<f64>(sums + (<usize>c << 3)) - 2 * product;
      if (value < bestValue) {
        bestValue = value;
        best = c;
      }
    }
    store<i32>(labels + (<usize>i << 2), best);
    store<f64>(counts + (<usize>best << 3), load<f64>(counts + (<usize>best << 3)) + 1);
    growBounds(layout, clusters, d, best, centred, nearest);
  }
  finishBounds(d, clusters, layout);
  // A stable counting sort: positions by cluster, caller order within each.
  let start = 0;
  for (let c = 0; c < clusters; c++) {
    store<i32>(layout.starts + (<usize>c << 2), start);
    start += <i32>load<f64>(counts + (<usize>c << 3));
  }
  store<i32>(layout.starts + (<usize>clusters << 2), n);
  for (let c = 0; c < clusters; c++) store<f64>(counts + (<usize>c << 3), <f64>load<i32>(layout.starts + (<usize>c << 2)));
  for (let i = 0; i < n; i++) {
    const at = counts + (<usize>load<i32>(labels + (<usize>i << 2)) << 3);
    const position = <i32>load<f64>(at);
    store<i32>(order + (<usize>position << 2), i);
    store<f64>(at, <f64>(position + 1));
  }
  permuteRows(points, n, d, order, centred, moved);
}

/**
 * Moves row order[p] to position p for every p, in place: each cycle of the permutation is
 * followed once, one row held aside (`held`); `moved` marks the positions done (n bits).
 */
export function permuteRows(points: usize, n: i32, d: i32, order: usize, held: usize, moved: usize): void {
  const rowBytes = <usize>d << 3;
  memory.fill(moved, 0, (<usize>n + 7) >> 3);
  for (let start = 0; start < n; start++) {
    if (isMarked(moved, start)) continue;
    memory.copy(held, points + <usize>start * rowBytes, rowBytes);
    let position = start;
    while (true) {
      mark(moved, position);
      const source = load<i32>(order + (<usize>position << 2));
      if (source == start) {
        memory.copy(points + <usize>position * rowBytes, held, rowBytes);
        break;
      }
      memory.copy(points + <usize>position * rowBytes, points + <usize>source * rowBytes, rowBytes);
      position = source;
    }
  }
}

@inline function isMarked(bits: usize, i: i32): bool {
  return (load<u8>(bits + (<usize>i >> 3)) & (1 << (i & 7))) != 0;
}

@inline function mark(bits: usize, i: i32): void {
  const at = bits + (<usize>i >> 3);
  store<u8>(at, load<u8>(at) | (<u8>1 << <u8>(i & 7)));
}

/**
 * Sets every cluster's bounds empty, and the centres' norms and pair lengths, rounded up by
 * (d + 4)·2^−53 relative (more than a sum of d squares and its square root can lose).
 */
function startBounds(d: i32, clusters: i32, layout: ClusterLayout): void {
  const rowBytes = <usize>d << 3;
  const up = 1.0 + <f64>(d + 4) * UNIT_ROUNDOFF;
  for (let b = 0; b < clusters; b++) {
    const centreB = layout.centres + <usize>b * rowBytes;
    store<f64>(layout.centreNorms + (<usize>b << 3), Math.sqrt(dotLanes(centreB, centreB, d)) * up);
    for (let a = 0; a < clusters; a++) {
      store<f64>(layout.pairLengths + (<usize>(b * clusters + a) << 3), Math.sqrt(squaredDistanceLanes(centreB, layout.centres + <usize>a * rowBytes, d)) * up);
      const slab = layout.slabs + (<usize>(b * clusters + a) << 4);
      store<f64>(slab, Infinity);
      store<f64>(slab, -Infinity, 8);
    }
    store<f64>(layout.radii + (<usize>b << 3), 0);
    store<f64>(layout.memberNorms + (<usize>b << 3), 0);
  }
}

/**
 * Grows cluster b's bounds by a member x̃ (`centred`) whose dot products with the centres are
 * `products`: the radius by ‖x̃ − c_b‖², the largest norm by ‖x̃‖², and each slab A → b by
 * fl(ĝ_b − ĝ_A). The squares are rooted and rounded up by finishBounds.
 */
function growBounds(layout: ClusterLayout, clusters: i32, d: i32, b: i32, centred: usize, products: usize): void {
  const radius = layout.radii + (<usize>b << 3);
  store<f64>(radius, Math.max(load<f64>(radius), squaredDistanceLanes(centred, layout.centres + (<usize>b * <usize>d << 3), d)));
  const norm = layout.memberNorms + (<usize>b << 3);
  store<f64>(norm, Math.max(load<f64>(norm), dotLanes(centred, centred, d)));
  const own = load<f64>(products + (<usize>b << 3));
  const slabs = layout.slabs + (<usize>(b * clusters) << 4);
  for (let a = 0; a < clusters; a++) {
    const along = own - load<f64>(products + (<usize>a << 3));
    const slab = slabs + (<usize>a << 4);
    store<f64>(slab, Math.min(load<f64>(slab), along));
    store<f64>(slab, Math.max(load<f64>(slab, 8), along), 8);
  }
}

/** The radii and largest norms from their squares: rooted and rounded up as startBounds does. */
function finishBounds(d: i32, clusters: i32, layout: ClusterLayout): void {
  const up = 1.0 + <f64>(d + 4) * UNIT_ROUNDOFF;
  for (let b = 0; b < clusters; b++) {
    const radius = layout.radii + (<usize>b << 3);
    store<f64>(radius, Math.sqrt(load<f64>(radius)) * up);
    const norm = layout.memberNorms + (<usize>b << 3);
    store<f64>(norm, Math.sqrt(load<f64>(norm)) * up);
  }
}
