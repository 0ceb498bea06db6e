// Reducer-level tests: the kernels' reducers (assembly/topk.ts, assembly/softmax.ts) driven one
// method at a time on hand-made tiles, against straightforward JavaScript: the top-k fold, the
// row selection, the range fold, the online softmax's fold and merge, and the fixed merge tree
// of its blocks. A split or a merge of a call can be checked here without a network. The
// entries (test/reducers.asm.ts) are compiled for this test alone.
import asc from 'assemblyscript/asc';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { nearestIndices } from '../src/reference.js';
import { SeededRandom } from '../src/random.js';
import { bits } from './helpers.js';

interface ReducerEntries {
  memory: WebAssembly.Memory;
  freeMemory(): number;
  topKStateBytes(capacity: number): number;
  softmaxStateBytes(classes: number): number;
  stableExp(x: number): number;
  topKBegin(reducer: number, states: number, q: number, capacity: number, selectFromRow: number, minima: number): void;
  topKFold(reducer: number, query: number, tile: number, count: number, firstIndex: number): void;
  topKFinish(reducer: number, query: number): void;
  topKHeap(reducer: number, query: number): number;
  heapSize(heap: number): number;
  heapDistances(heap: number): number;
  heapIndices(heap: number, capacity: number): number;
  topKFoldInOrder(
    tile: number, count: number, firstPosition: number, distances: number, positions: number, size: number, capacity: number, minima: number, order: number,
  ): number;
  sortCandidatesOrdered(distances: number, positions: number, size: number, order: number): void;
  rangeBegin(reducer: number, limit: number, list: number, room: number): void;
  rangeFold(reducer: number, tile: number, count: number, firstIndex: number): void;
  rangeCount(reducer: number): number;
  softmaxBegin(
    reducer: number, states: number, queryStride: number, blockPoints: number, labels: number, targets: number, classes: number, regression: number, lambda: number,
    q: number, firstBlock: number, endBlock: number,
  ): void;
  softmaxFold(reducer: number, query: number, tile: number, count: number, firstIndex: number): void;
  softmaxState(reducer: number, query: number, block: number): number;
  softmaxScores(state: number): number;
  softmaxMerge(state: number, other: number, classes: number, lambda: number): void;
  finishBlockStates(first: number, blocks: number, stateBytes: number, classes: number, lambda: number, output: number): void;
}

let wasm: ReducerEntries;
// The test's memory: a descriptor, the top-k minima, the states, then tiles and lists.
let reducer = 0;
let minima = 0;
let states = 0;
let tiles = 0;

beforeAll(async () => {
  let binary: Uint8Array<ArrayBuffer> | undefined;
  const { error, stderr } = await asc.main(
    ['test/reducers.asm.ts', '--baseDir', resolve(dirname(fileURLToPath(import.meta.url)), '..'), '--enable', 'simd', '-O3', '--runtime', 'stub', '--noAssert', '--outFile', 'reducers.wasm'],
    {
      writeFile: (name, contents) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = new Uint8Array(contents);
      },
    },
  );
  if (error) throw new Error(`${error.message}\n${stderr.toString()}`);
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(binary!));
  wasm = instance.exports as unknown as ReducerEntries;
  reducer = wasm.freeMemory();
  minima = reducer + 64;
  states = minima + 128;
  tiles = states + 256 * 1024;
  const needed = tiles + 256 * 1024;
  const have = wasm.memory.buffer.byteLength;
  if (needed > have) wasm.memory.grow(Math.ceil((needed - have) / 65536));
}, 60_000);

const f64 = (at: number, length: number): Float64Array => new Float64Array(wasm.memory.buffer, at, length);
const i32 = (at: number, length: number): Int32Array => new Int32Array(wasm.memory.buffer, at, length);
/** `length` f64 values at any address (a heap's distances follow its 4-byte size). */
function unalignedF64(at: number, length: number): number[] {
  const view = new DataView(wasm.memory.buffer);
  return Array.from({ length }, (_, i) => view.getFloat64(at + i * 8, true));
}

/** Distances of `count` points: on a grid of `grid` steps (many ties) or spread out. */
function distances(random: SeededRandom, count: number, grid: number): Float64Array {
  return Float64Array.from({ length: count }, () => (grid > 0 ? Math.floor(random.uniform() * grid) : random.uniform() * 100));
}

/** The pairs a top-k of `capacity` must hold after seeing `row`: the smallest by (distance, index). */
function expectedTopK(row: Float64Array, capacity: number): { indices: number[]; distances: number[] } {
  const indices = Array.from(nearestIndices(row, Math.min(capacity, row.length)));
  return { indices, distances: indices.map((i) => row[i]) };
}

/** Folds `row` into query `query`'s heap as tiles of the given sizes, in order; returns the heap. */
function foldTiles(query: number, row: Float64Array, tileSizes: number[]): number {
  let first = 0;
  for (const size of tileSizes) {
    f64(tiles, size).set(row.subarray(first, first + size));
    wasm.topKFold(reducer, query, tiles, size, first);
    first += size;
  }
  return wasm.topKHeap(reducer, query);
}

/** Splits `count` into tiles of at most `largest`. */
function tileSizes(count: number, largest: number): number[] {
  const sizes: number[] = [];
  for (let first = 0; first < count; first += largest) sizes.push(Math.min(largest, count - first));
  return sizes;
}

function readHeap(heap: number, capacity: number): { indices: number[]; distances: number[] } {
  const size = wasm.heapSize(heap);
  return { indices: Array.from(i32(wasm.heapIndices(heap, capacity), size)), distances: unalignedF64(wasm.heapDistances(heap), size) };
}

describe('top-k reducer (heap)', () => {
  it('begins every heap empty, and an empty heap finishes empty', () => {
    wasm.topKBegin(reducer, states, 3, 5, 0, minima);
    for (let query = 0; query < 3; query++) {
      wasm.topKFinish(reducer, query);
      expect(wasm.heapSize(wasm.topKHeap(reducer, query))).toBe(0);
    }
    expect(wasm.topKHeap(reducer, 1) - wasm.topKHeap(reducer, 0)).toBe(wasm.topKStateBytes(5));
  });

  // Capacities below, at and above the sixteen columns of the fill limit (whose two sorted runs
  // of eight each give some of the limit's values from 9 up); tiles of odd sizes,
  // of exactly 16, and rows shorter than, equal to and longer than the capacity (k = n).
  const shapes: [capacity: number, count: number, largestTile: number][] = [
    [1, 1, 64], [1, 100, 64], [3, 3, 64], [5, 5, 16], [5, 17, 16], [5, 333, 64], [7, 1000, 128],
    [8, 200, 48], [9, 200, 48], [12, 400, 64], [16, 16, 16], [16, 47, 16], [16, 500, 100], [17, 17, 64], [20, 19, 64], [20, 513, 64], [33, 1001, 96],
  ];
  for (const grid of [0, 3, 50]) {
    it(`keeps the smallest (distance, index) pairs, ties toward the lower index (${grid > 0 ? `grid of ${grid}` : 'no ties'})`, () => {
      const random = new SeededRandom(11 + grid);
      for (const [capacity, count, largest] of shapes) {
        const rows = [distances(random, count, grid), distances(random, count, grid)];
        wasm.topKBegin(reducer, states, 2, capacity, 0, minima);
        // Two queries' heaps side by side: the second query's folds must leave the first alone.
        for (const [query, row] of rows.entries()) foldTiles(query, row, tileSizes(count, largest));
        for (const [query, row] of rows.entries()) {
          const expected = expectedTopK(row, capacity);
          const heap = wasm.topKHeap(reducer, query);
          expect(wasm.heapSize(heap), `capacity ${capacity}, count ${count}`).toBe(expected.indices.length);
          wasm.topKFinish(reducer, query);
          expect(readHeap(heap, capacity), `capacity ${capacity}, count ${count}, query ${query}`).toEqual(expected);
        }
      }
    });
  }

  it('an empty heap fills up to the capacity-th smallest column minimum, taken from both runs of eight', () => {
    // Rows whose column minima rise from column 0 to 15: the limit for a capacity over 8 lies in
    // the second run, and a limit from the first run alone would leave the heap short.
    for (const count of [16, 32, 48]) {
      for (const [name, row] of [
        ['rising', Float64Array.from({ length: count }, (_, i) => i % 16 + Math.floor(i / 16) * 0.5)],
        ['falling', Float64Array.from({ length: count }, (_, i) => 15 - (i % 16) + Math.floor(i / 16) * 0.5)],
      ] as const) {
        for (const capacity of [8, 9, 12, 15, 16]) {
          wasm.topKBegin(reducer, states, 1, capacity, 0, minima);
          foldTiles(0, row, [count]);
          expect(wasm.heapSize(wasm.topKHeap(reducer, 0)), `${name} row of ${count}, capacity ${capacity}`).toBe(capacity);
          wasm.topKFinish(reducer, 0);
          expect(readHeap(wasm.topKHeap(reducer, 0), capacity), `${name} row of ${count}, capacity ${capacity}`).toEqual(expectedTopK(row, capacity));
        }
      }
    }
  });

  it('a tile whose distances all tie the root changes nothing: the earlier indices stay', () => {
    wasm.topKBegin(reducer, states, 1, 4, 0, minima);
    const row = Float64Array.from({ length: 40 }, (_, i) => (i < 20 ? 1 + (i % 4) : 4));
    foldTiles(0, row, [20, 20]);
    wasm.topKFinish(reducer, 0);
    expect(readHeap(wasm.topKHeap(reducer, 0), 4)).toEqual(expectedTopK(row, 4));
    expect(readHeap(wasm.topKHeap(reducer, 0), 4).indices).toEqual([0, 4, 8, 12]);
  });
});

describe('top-k reducer over positions in leaf order (ties by the caller\'s index, order[position])', () => {
  // A heap at `states` (distances from +8, positions after `capacity` of them), the order after the tiles.
  it('keeps the smallest (distance, order[position]) pairs whatever order the tiles come in', () => {
    const random = new SeededRandom(59);
    for (const grid of [0, 2, 5]) {
      for (const [capacity, count, largest] of [[1, 40, 16], [5, 5, 8], [5, 300, 64], [7, 1000, 32], [16, 500, 48], [20, 333, 100]]) {
        const row = distances(random, count, grid);
        // A random permutation: position p holds caller index order[p].
        const order = Int32Array.from({ length: count }, (_, i) => i);
        for (let i = count - 1; i > 0; i--) {
          const j = Math.floor(random.uniform() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        const orderAt = tiles + 128 * 1024;
        i32(orderAt, count).set(order);
        // Tiles of positions, folded in a shuffled order (leaves visited by their bounds).
        const sizes = tileSizes(count, largest);
        const firsts = sizes.map((_, t) => sizes.slice(0, t).reduce((a, b) => a + b, 0));
        const visit = sizes.map((_, t) => t).sort(() => random.uniform() - 0.5);
        const heapDistances = states + 8;
        const heapPositions = states + 8 + capacity * 8;
        let size = 0;
        for (const t of visit) {
          f64(tiles, sizes[t]).set(row.subarray(firsts[t], firsts[t] + sizes[t]));
          size = wasm.topKFoldInOrder(tiles, sizes[t], firsts[t], heapDistances, heapPositions, size, capacity, minima, orderAt);
        }
        wasm.sortCandidatesOrdered(heapDistances, heapPositions, size, orderAt);
        const byCaller = new Float64Array(count);
        order.forEach((caller, position) => (byCaller[caller] = row[position]));
        const expected = expectedTopK(byCaller, capacity);
        const positions = Array.from(i32(heapPositions, size));
        expect(positions.map((p) => order[p]), `grid ${grid}, capacity ${capacity}, count ${count}`).toEqual(expected.indices);
        expect(Array.from(f64(heapDistances, size))).toEqual(expected.distances);
      }
    }
  });

  it('lets in a distance equal to the root\'s when its caller index is lower, and not when it is higher', () => {
    const orderAt = tiles + 128 * 1024;
    // Positions 0…3 hold caller indices 9, 8, 7, 6; positions 4…7 hold 1, 2, 3, 20.
    i32(orderAt, 8).set([9, 8, 7, 6, 1, 2, 3, 20]);
    const heapDistances = states + 8;
    const heapPositions = states + 8 + 3 * 8;
    f64(tiles, 4).set([1, 1, 1, 1]);
    let size = wasm.topKFoldInOrder(tiles, 4, 0, heapDistances, heapPositions, 0, 3, minima, orderAt);
    f64(tiles, 4).set([1, 1, 1, 1]);
    size = wasm.topKFoldInOrder(tiles, 4, 4, heapDistances, heapPositions, size, 3, minima, orderAt);
    wasm.sortCandidatesOrdered(heapDistances, heapPositions, size, orderAt);
    expect(Array.from(i32(heapPositions, size))).toEqual([4, 5, 6]);
  });
});

describe('top-k reducer (row selection)', () => {
  it('selects the capacity (≤ 16; past 8, of a row of at least 16) smallest of a whole row, sorted, ties toward the lower index', () => {
    const random = new SeededRandom(23);
    for (const grid of [0, 2, 7]) {
      for (const count of [8, 9, 13, 16, 17, 31, 100, 257, 528, 1024]) {
        for (let capacity = 1; capacity <= (count >= 16 ? 16 : 8); capacity++) {
          const row = distances(random, count, grid);
          wasm.topKBegin(reducer, states, 3, capacity, 1, minima);
          // Query 1, between two others: its row is one tile (with room for the padding).
          foldTiles(1, row, [count]);
          const heap = wasm.topKHeap(reducer, 1);
          wasm.topKFinish(reducer, 1);
          expect(readHeap(heap, capacity), `grid ${grid}, count ${count}, capacity ${capacity}`).toEqual(expectedTopK(row, capacity));
          expect(wasm.heapSize(wasm.topKHeap(reducer, 0))).toBe(0);
          expect(wasm.heapSize(wasm.topKHeap(reducer, 2))).toBe(0);
        }
      }
    }
  });
});

describe('range reducer', () => {
  it('lists, in index order, every distance at or below the limit, across tiles', () => {
    const random = new SeededRandom(31);
    const list = tiles + 64 * 1024;
    for (const [count, largest, limit] of [[0, 8, 5], [7, 8, 50], [9, 8, 50], [100, 24, 0], [333, 64, 10], [1000, 128, 99.5], [1000, 128, 1e9]]) {
      const row = distances(random, count, 100);
      wasm.rangeBegin(reducer, limit, list, count);
      let first = 0;
      for (const size of tileSizes(count, largest)) {
        f64(tiles, size).set(row.subarray(first, first + size));
        wasm.rangeFold(reducer, tiles, size, first);
        first += size;
      }
      const expected = Array.from(row.keys()).filter((i) => row[i] <= limit);
      expect(wasm.rangeCount(reducer), `count ${count}, limit ${limit}`).toBe(expected.length);
      expect(Array.from(i32(list, expected.length))).toEqual(expected);
    }
  });

  it('counts past its room, listing only the first that fit', () => {
    const list = tiles + 64 * 1024;
    const row = Float64Array.from({ length: 50 }, (_, i) => i % 5);
    i32(list, 12).fill(-7);
    wasm.rangeBegin(reducer, 1, list, 10);
    f64(tiles, 50).set(row);
    wasm.rangeFold(reducer, tiles, 50, 100);
    expect(wasm.rangeCount(reducer)).toBe(20);
    expect(Array.from(i32(list, 12))).toEqual([100, 101, 105, 106, 110, 111, 115, 116, 120, 121, -7, -7]);
  });
});

/** An online softmax state in JavaScript, folded in the kernel's order with its exp. */
interface State { minimum: number; weightSum: number; scores: number[] }

const emptyState = (classes: number): State => ({ minimum: Infinity, weightSum: 0, scores: new Array<number>(classes).fill(0) });

/**
 * The kernel's fold, step by step: even and odd positions summed apart (its two lanes), then
 * the lanes added, then an odd last point; a smaller minimum first rescales the state.
 */
function foldState(state: State, tile: Float64Array, firstIndex: number, labels: Int32Array, targets: Float64Array | undefined, lambda: number): void {
  const exp = wasm.stableExp;
  let minimum = state.minimum;
  for (const value of tile) minimum = Math.min(minimum, value);
  if (minimum < state.minimum && state.minimum !== Infinity) {
    const factor = exp(-lambda * (state.minimum - minimum));
    state.weightSum *= factor;
    state.scores = state.scores.map((score) => score * factor);
  }
  state.minimum = minimum;
  const lanes = [0, 0];
  const weighted = [0, 0];
  let i = 0;
  for (; i + 1 < tile.length; i += 2) {
    for (const lane of [0, 1]) {
      const weight = exp(-lambda * (tile[i + lane] - minimum));
      lanes[lane] += weight;
      const point = firstIndex + i + lane;
      if (targets) weighted[lane] += weight * targets[point];
      else state.scores[labels[point]] += weight;
    }
  }
  let sum = lanes[0] + lanes[1];
  if (i < tile.length) {
    const point = firstIndex + i;
    const weight = exp(-lambda * (tile[i] - minimum));
    sum += weight;
    if (targets) state.scores[0] += weight * targets[point];
    else state.scores[labels[point]] += weight;
  }
  if (targets) state.scores[0] = state.scores[0] + weighted[0] + weighted[1];
  state.weightSum += sum;
}

/** The kernel's merge: both states rescaled to the smaller minimum; the one with it by exactly 1. */
function mergeStates(state: State, other: State, lambda: number): State {
  const low = Math.min(state.minimum, other.minimum);
  const factor = state.minimum === low ? 1 : wasm.stableExp(-lambda * (state.minimum - low));
  const otherFactor = other.minimum === low ? 1 : wasm.stableExp(-lambda * (other.minimum - low));
  return {
    minimum: low,
    weightSum: state.weightSum * factor + other.weightSum * otherFactor,
    scores: state.scores.map((score, c) => score * factor + other.scores[c] * otherFactor),
  };
}

function writeState(at: number, state: State): void {
  f64(at, 2).set([state.minimum, state.weightSum]);
  f64(wasm.softmaxScores(at), state.scores.length).set(state.scores);
}

function readState(at: number, classes: number): State {
  const [minimum, weightSum] = f64(at, 2);
  return { minimum, weightSum, scores: Array.from(f64(wasm.softmaxScores(at), classes)) };
}

const stateBits = (state: State): number[] => bits(Float64Array.from([state.minimum, state.weightSum, ...state.scores]));

describe('online softmax reducer', () => {
  it('folds tiles into their blocks (rescaling when a tile brings a smaller minimum), and leaves other blocks alone', () => {
    const random = new SeededRandom(41);
    for (const regression of [false, true]) {
      const classes = regression ? 1 : 3;
      const lambda = 0.7;
      const blockPoints = 24;
      const blocks = 4;
      const n = 90; // the last block is short
      const stateBytes = wasm.softmaxStateBytes(classes);
      const queryStride = blocks * stateBytes;
      const labels = tiles + 128 * 1024;
      const targets = labels + 4096;
      const labelValues = Int32Array.from({ length: n }, () => Math.floor(random.uniform() * classes));
      const targetValues = Float64Array.from({ length: n }, () => random.uniform() * 10 - 5);
      i32(labels, n).set(labelValues);
      f64(targets, n).set(targetValues);
      // Blocks 1 and 2 of two queries, as one worker of two would; blocks 0 and 3 keep a marker.
      const marker = { minimum: 1234, weightSum: 5, scores: new Array<number>(classes).fill(6) };
      for (const query of [0, 1]) for (const block of [0, 3]) writeState(states + query * queryStride + block * stateBytes, marker);
      wasm.softmaxBegin(reducer, states, queryStride, blockPoints, labels, regression ? targets : 0, classes, regression ? 1 : 0, lambda, 2, 1, 3);
      for (const query of [0, 1]) {
        const row = distances(random, n, 0);
        // Decreasing minima across the tiles force rescaling; tiles of odd and even sizes.
        for (let i = 0; i < n; i++) row[i] += (n - i) * 0.5;
        const expected = [emptyState(classes), emptyState(classes)];
        for (const [first, size] of [[24, 7], [31, 9], [40, 8], [48, 13], [61, 11]]) {
          const tile = row.subarray(first, first + size);
          f64(tiles, size).set(tile);
          wasm.softmaxFold(reducer, query, tiles, size, first);
          foldState(expected[Math.floor(first / blockPoints) - 1], tile, first, labelValues, regression ? targetValues : undefined, lambda);
        }
        for (const block of [1, 2]) {
          expect(stateBits(readState(wasm.softmaxState(reducer, query, block), classes)), `query ${query}, block ${block}`).toEqual(stateBits(expected[block - 1]));
        }
        for (const block of [0, 3]) expect(readState(wasm.softmaxState(reducer, query, block), classes)).toEqual(marker);
      }
    }
  });

  it('merges two states bit for bit as the formula says, an empty state being the identity', () => {
    const random = new SeededRandom(43);
    const classes = 4;
    const [a, b] = [states, states + wasm.softmaxStateBytes(classes)];
    const someState = (minimum: number): State => ({
      minimum,
      weightSum: 1 + random.uniform() * 20,
      scores: Array.from({ length: classes }, () => random.uniform() * 5),
    });
    const pairs: [State, State][] = [
      [someState(3), someState(5)], [someState(5), someState(3)], [someState(2), someState(2)],
      [someState(0), someState(2000)], [emptyState(classes), someState(1)], [someState(1), emptyState(classes)],
      [emptyState(classes), emptyState(classes)],
    ];
    for (const lambda of [0, 0.3, 1e12]) {
      for (const [first, second] of pairs) {
        writeState(a, first);
        writeState(b, second);
        wasm.softmaxMerge(a, b, classes, lambda);
        expect(stateBits(readState(a, classes))).toEqual(stateBits(mergeStates(first, second, lambda)));
        expect(readState(b, classes)).toEqual(second);
      }
      const kept = someState(4);
      writeState(a, kept);
      writeState(b, emptyState(classes));
      wasm.softmaxMerge(a, b, classes, lambda);
      expect(stateBits(readState(a, classes))).toEqual(stateBits(kept));
    }
  });

  it('merges a query\'s blocks in the fixed pairwise tree, then normalises', () => {
    const random = new SeededRandom(47);
    const classes = 3;
    const lambda = 0.9;
    const stateBytes = wasm.softmaxStateBytes(classes);
    const output = tiles;
    for (let blocks = 1; blocks <= 7; blocks++) {
      const given = Array.from({ length: blocks }, (_, b): State =>
        b === 2 ? emptyState(classes) : { minimum: random.uniform() * 4, weightSum: 1 + random.uniform(), scores: Array.from({ length: classes }, () => random.uniform()) },
      );
      given.forEach((state, b) => writeState(states + b * stateBytes, state));
      wasm.finishBlockStates(states, blocks, stateBytes, classes, lambda, output);
      // The tree: pairs at stride 1 (0+1, 2+3, …), then 2 (0+2, 4+6), then 4 (0+4).
      const tree = given.map((state) => ({ ...state, scores: [...state.scores] }));
      for (let stride = 1; stride < blocks; stride *= 2) {
        for (let b = 0; b + stride < blocks; b += 2 * stride) tree[b] = mergeStates(tree[b], tree[b + stride], lambda);
      }
      const expected = Float64Array.from(tree[0].scores, (score) => score / tree[0].weightSum);
      expect(bits(f64(output, classes)), `${blocks} blocks`).toEqual(bits(expected));
    }
  });
});
