// The shared-memory twin of a kernel build, derived from its bytes at load time rather than
// shipped as a fourth and fifth inlined binary: the module's own memory (its memory section) is
// replaced by an import "env.memory" of a shared memory with the same initial size. The code,
// the data segments and the exports stay byte for byte. The data segments leave out trailing
// zeros, which is right for a fresh WebAssembly.Memory (zero-filled) and harmless when a worker
// re-applies them: the static data holds constants only, and nothing writes to it.

const MEMORY_SECTION = 5;
const IMPORT_SECTION = 2;
const MEMORY_KIND = 0x02;
// Limits flags: bit 0 says a maximum follows, bit 1 that the memory is shared.
const HAS_MAXIMUM = 0x01;
const SHARED_WITH_MAXIMUM = 0x03;

function readUnsigned(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: at };
    shift += 7;
  }
}

function unsigned(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

const ascii = (text: string): number[] => [...unsigned(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];

interface Section {
  readonly id: number;
  readonly payload: Uint8Array;
}

/**
 * `module` (a kernel build, which defines one memory and imports none) with that memory
 * replaced by an imported shared memory of `maximumPages` at most; and the initial size the
 * import asks for (that of the module's own memory), in pages.
 */
export function withSharedMemoryImport(module: Uint8Array, maximumPages: number): { bytes: Uint8Array<ArrayBuffer>; initialPages: number } {
  const sections: Section[] = [];
  for (let at = 8; at < module.length; ) {
    const id = module[at];
    const size = readUnsigned(module, at + 1);
    sections.push({ id, payload: module.subarray(size.next, size.next + size.value) });
    at = size.next + size.value;
  }
  const memory = sections.find((section) => section.id === MEMORY_SECTION);
  if (!memory || readUnsigned(memory.payload, 0).value !== 1 || sections.some((section) => section.id === IMPORT_SECTION)) {
    throw new Error('a kernel build defines exactly one memory and imports nothing');
  }
  const flags = memory.payload[1];
  const initialPages = readUnsigned(memory.payload, 2).value;
  if ((flags & ~HAS_MAXIMUM) !== 0) throw new Error('a kernel build has a plain, unshared memory');
  const importEntry = [...unsigned(1), ...ascii('env'), ...ascii('memory'), MEMORY_KIND, SHARED_WITH_MAXIMUM, ...unsigned(initialPages), ...unsigned(maximumPages)];
  const rebuilt: Section[] = [];
  for (const section of sections) {
    if (section.id === MEMORY_SECTION) continue;
    // Known sections come in id order; custom ones (id 0) may stand anywhere.
    const importDue = !rebuilt.some((s) => s.id === IMPORT_SECTION) && section.id !== 0 && section.id > IMPORT_SECTION;
    if (importDue) rebuilt.push({ id: IMPORT_SECTION, payload: Uint8Array.from(importEntry) });
    rebuilt.push(section);
  }
  const parts: number[][] = [[...module.subarray(0, 8)]];
  for (const section of rebuilt) parts.push([section.id, ...unsigned(section.payload.length)], Array.from(section.payload));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return { bytes: out, initialPages };
}
