// Float64 and Int32 columns that grow while a file is read, without copying: the buffer is a
// resizable ArrayBuffer, whose growth commits memory in place up to a reserved maximum, and
// only the pages written count, so reading a matrix holds one copy of it (a doubling array
// holds up to three while it copies).

interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
  readonly maxByteLength: number;
}

// Resizable buffers are in every engine from Node 20 on (ES2024; not yet in this project's lib).
const Resizable = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

/** No matrix wasm32 can hold is larger; the reservation is address space, not memory. */
export const MAX_COLUMN_BYTES = 4 * 1024 ** 3;
const FIRST_BYTES = 1 << 16;

type NumberArray = Float64Array | Int32Array;

interface NumberArrayType<T extends NumberArray> {
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** A growing sequence of float64 (or int32) values. */
export class GrowableArray<T extends NumberArray> {
  readonly #type: NumberArrayType<T>;
  readonly #buffer: ResizableArrayBuffer;
  #view: T;
  length = 0;

  constructor(type: NumberArrayType<T>) {
    this.#type = type;
    this.#buffer = new Resizable(FIRST_BYTES, { maxByteLength: MAX_COLUMN_BYTES });
    this.#view = new type(this.#buffer, 0, FIRST_BYTES / type.BYTES_PER_ELEMENT);
  }

  /** Room for `count` more values; false if that would pass MAX_COLUMN_BYTES. */
  reserve(count: number): boolean {
    const needed = (this.length + count) * this.#type.BYTES_PER_ELEMENT;
    if (needed <= this.#buffer.byteLength) return true;
    if (needed > MAX_COLUMN_BYTES) return false;
    const bytes = Math.min(MAX_COLUMN_BYTES, Math.max(needed, this.#buffer.byteLength * 2));
    this.#buffer.resize(bytes);
    this.#view = new this.#type(this.#buffer, 0, bytes / this.#type.BYTES_PER_ELEMENT);
    return true;
  }

  /** The view to write into after reserve(); valid until the next reserve(). */
  get values(): T {
    return this.#view;
  }

  /**
   * The values: a view of the first `length`. The buffer is not shrunk: memory past them was
   * never written, so it costs address space only, while shrinking would zero it (and so
   * touch it) first.
   */
  finish(): T {
    return new this.#type(this.#buffer, 0, this.length);
  }
}
