/**
 * A minimal protocol-buffers encoder: just what building an ONNX model needs.
 *
 * A message is a sequence of fields; each field starts with a key varint
 * (field number << 3 | wire type). We use three wire types:
 *   0 varint            — int32/int64/enum/bool, 7 bits per byte, low groups first;
 *                         negative int64 values take 10 bytes (two's complement, 64 bits)
 *   2 length-delimited  — strings, bytes, nested messages, packed repeated scalars
 *   5 fixed 32-bit      — float, little-endian
 * Nested messages are encoded bottom-up to byte arrays, so their lengths are known when the
 * parent writes them. Repeated fields are simply written once per element (unpacked), which
 * every conforming parser accepts.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

export class MessageWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  private key(field: number, wireType: number): void {
    this.push(encodeVarint(field * 8 + wireType));
  }

  /** An int32, int64, enum or bool field (safe integers; negatives as 64-bit two's complement). */
  integer(field: number, value: number): this {
    this.key(field, WIRE_VARINT);
    this.push(encodeVarint(value));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LENGTH_DELIMITED);
    this.push(encodeVarint(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  message(field: number, value: MessageWriter): this {
    return this.bytes(field, value.finish());
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const result = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      result.set(chunk, offset);
      offset += chunk.length;
    }
    return result;
  }
}

/** Base-128 varint of a safe integer; negative values as 64-bit two's complement (10 bytes). */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new RangeError(`varint needs a safe integer, got ${value}`);
  let remaining = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    let byte = Number(remaining & 0x7fn);
    remaining >>= 7n;
    if (remaining !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (remaining !== 0n);
  return Uint8Array.from(bytes);
}
