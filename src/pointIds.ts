// Stable ids: the caller's own id for each training point (a database key, a document number),
// given at fit or add. Positions renumber when points are removed; ids do not: the searches
// report them beside the positions, and removeIds removes by them.
import { KnnError, describeValue } from './errors.js';

/**
 * Reads `ids`, one per row of the `rows` given, each exactly once: whole numbers from 0 to
 * 2^53 − 1 (so that every one is exact as a number), none twice, none already `held`.
 */
export function readIds(ids: unknown, rows: number, held: PointIds | undefined, argument = 'ids'): Float64Array {
  const isList = Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView));
  if (!isList) throw new KnnError('BAD_INPUT', `${argument} must be an array of whole numbers, one id per row of X; got ${describeValue(ids)}.`);
  const list = ids as ArrayLike<unknown>;
  const length = list.length;
  if (length !== rows) throw new KnnError('SHAPE_MISMATCH', `${argument} has ${length} ids but X has ${rows} rows; pass one id per row.`);
  const values = new Float64Array(rows);
  const seen = new Set<number>();
  for (let i = 0; i < rows; i++) {
    const id = list[i];
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new KnnError('BAD_INPUT', `${argument}[${i}] is ${describeValue(id)}; an id must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}.`);
    }
    if (seen.has(id) || held?.has(id)) {
      throw new KnnError('BAD_INPUT', `${argument}[${i}] is ${id}, which ${seen.has(id) ? `${argument} already gives` : 'a point of the network already has'}; ids must be unique.`);
    }
    seen.add(id);
    values[i] = id;
  }
  return values;
}

/** The ids of a network's points, in the points' order. Immutable: add and remove make new ones. */
export class PointIds {
  readonly values: Float64Array;
  #positions: Map<number, number> | undefined;

  constructor(values: Float64Array) {
    this.values = values;
  }

  /** Where each id is, built on first use. */
  get #byId(): Map<number, number> {
    return (this.#positions ??= new Map(Array.from(this.values, (id, position) => [id, position])));
  }

  has(id: number): boolean {
    return this.#byId.has(id);
  }

  appended(extra: Float64Array): PointIds {
    const values = new Float64Array(this.values.length + extra.length);
    values.set(this.values);
    values.set(extra, this.values.length);
    return new PointIds(values);
  }

  /** The ids of the points `removed` does not mark. */
  without(removed: Uint8Array): PointIds {
    return new PointIds(this.values.filter((_, position) => !removed[position]));
  }

  /** Which points `ids` names (1 = named), each id read once: every one must be a point's, named once. */
  positionsOf(ids: unknown, argument = 'ids'): Uint8Array {
    const isList = Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView));
    if (!isList) throw new KnnError('BAD_INPUT', `${argument} must be an array of the ids of points to remove; got ${describeValue(ids)}.`);
    const list = ids as ArrayLike<unknown>;
    const length = list.length;
    const named = new Uint8Array(this.values.length);
    for (let i = 0; i < length; i++) {
      const id = list[i];
      const position = typeof id === 'number' ? this.#byId.get(id) : undefined;
      if (position === undefined) throw new KnnError('BAD_INPUT', `${argument}[${i}] is ${describeValue(id)}, which is not the id of a point of the network.`);
      if (named[position]) throw new KnnError('BAD_INPUT', `${argument}[${i}] is ${id}, which ${argument} already names; name each point once.`);
      named[position] = 1;
    }
    return named;
  }

  /** The ids at `positions` (−1, where a neighbour list has no point, stays −1). */
  at(positions: Int32Array): Float64Array {
    return Float64Array.from(positions, (position) => (position < 0 ? -1 : this.values[position]));
  }
}

/**
 * The ids `add` reads for `rows` points (`given`, its options.ids): required on a network that
 * has ids (`held`), refused on one that has none unless it is `empty`; undefined when none.
 */
export function addedIds(given: unknown, rows: number, held: PointIds | undefined, empty: boolean): Float64Array | undefined {
  if (given !== undefined && !empty && !held) throw new KnnError('BAD_INPUT', 'add(X, y, { ids }): this network has no ids (fit it with options.ids to have them); add without ids.');
  if (given === undefined && held) throw new KnnError('BAD_INPUT', 'add(X, y, { ids }): this network has ids, so every point added needs one: pass options.ids, one per row of X.');
  return given === undefined ? undefined : readIds(given, rows, held, 'options.ids');
}
