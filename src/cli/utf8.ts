// UTF-8 checking for files read in chunks. Node's isUtf8 answers yes or no for a whole range at
// native speed; the byte-by-byte walk below runs only once a range has failed, to say where.
// Well-formed UTF-8 as Unicode defines it (table 3-7): no overlong forms, no encoded surrogates
// (U+D800…U+DFFF), nothing past U+10FFFF.
export { isUtf8 } from 'node:buffer';

/** Bytes in the sequence that lead byte `c` opens: 1 for ASCII, 0 if `c` cannot open one. */
function sequenceLength(c: number): number {
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0; // a continuation byte, or C0/C1 (always overlong)
  if (c < 0xe0) return 2;
  if (c < 0xf0) return 3;
  if (c < 0xf5) return 4;
  return 0;
}

/** The allowed range of the byte after lead byte `c` (the others are always 80…BF). */
function secondByteRange(c: number): [number, number] {
  if (c === 0xe0) return [0xa0, 0xbf]; // below: overlong
  if (c === 0xed) return [0x80, 0x9f]; // above: surrogates
  if (c === 0xf0) return [0x90, 0xbf]; // below: overlong
  if (c === 0xf4) return [0x80, 0x8f]; // above: past U+10FFFF
  return [0x80, 0xbf];
}

/**
 * Offset of the first byte in bytes[from, to) that starts no well-formed sequence (a sequence
 * cut short by `to` counts as ill-formed), or −1 if the whole range is UTF-8.
 */
export function firstInvalidUtf8(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const c = bytes[i]!;
    const length = sequenceLength(c);
    if (length === 1) {
      i++;
      continue;
    }
    if (length === 0 || i + length > to) return i;
    const [low, high] = secondByteRange(c);
    const second = bytes[i + 1]!;
    if (second < low || second > high) return i;
    for (let j = 2; j < length; j++) {
      const next = bytes[i + j]!;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}

/**
 * The end of the complete characters in bytes[0, end): `end`, less the first bytes of a
 * multi-byte character that the next chunk of the file will finish (at most 3 of them).
 */
export function completeCharactersEnd(bytes: Uint8Array, end: number): number {
  for (let back = 1; back <= 3 && back <= end; back++) {
    const c = bytes[end - back]!;
    if (c < 0x80) return end;
    if (c >= 0xc0) return sequenceLength(c) > back ? end - back : end;
    // A continuation byte: its lead byte is further back.
  }
  return end;
}
