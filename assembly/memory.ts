// Allocation of linear-memory regions for the TypeScript wrapper.
//
// Regions are served from pages this module grows itself, not by the runtime's TLSF allocator:
// TLSF caps a block at 1 GiB, and when it grows it doubles the memory, which would hand it the
// address space that large regions need. The kernels allocate nothing through the runtime, so
// its heap is never set up; pages that anything else grows are stepped over, never handed out.
//
// Blocks tile the memory from the static data's end: a 16-byte header (payload size, state,
// bytes requested), then the payload, so every payload is 16-byte aligned for v128 loads. An
// allocation walks every block (a network owns five or six, so there are few), takes the
// best-fitting free block and splits off the rest; freed neighbours merge as that walk passes
// them; when no free block fits, memory grows by the pages missing, extending the last block if
// it is free. Freed regions are reused by later allocations, which is the only way to keep a
// long-running process flat, since wasm memory can grow but never shrink.
//
// The last 64 KiB page of wasm32's 4 GiB is never grown, so that no address or size overflows
// 32 bits. The counters are the allocator-level truth the wrapper's memory tests read.

const PAGE_BYTES: usize = 65536;
const MAX_PAGES: i32 = 65535;
const HEADER_BYTES: usize = 16;
const SMALLEST_PAYLOAD: usize = 16;

const FREE: u32 = 0;
const USED: u32 = 1;
/** Pages grown by something else (a test, a future runtime heap): never handed out. */
const FOREIGN: u32 = 2;

const heapStart: usize = (__heap_base + 15) & ~<usize>15;
// The chain of blocks tiles [chainStart, chainEnd). The 16 bytes at chainEnd are ours too, kept
// for the header of whatever comes next: the next block, or the marker over pages someone else
// grew meanwhile (whose own bytes are not ours to write).
let chainStart: usize = 0;
let chainEnd: usize = 0;
startChain();

let liveBytes: usize = 0;
let liveRegions: i32 = 0;

@inline function payloadSize(header: usize): usize { return <usize>load<u32>(header); }
@inline function blockState(header: usize): u32 { return load<u32>(header, 4); }
@inline function nextHeader(header: usize): usize { return header + HEADER_BYTES + payloadSize(header); }

@inline function writeHeader(header: usize, payload: usize, state: u32): void {
  store<u32>(header, <u32>payload);
  store<u32>(header, state, 4);
}

/**
 * What the allocator could hand out with nothing allocated: wasm32's 4 GiB less the page never
 * grown, the static data and two headers. No single request may be larger.
 */
export function capacityBytes(): usize {
  return <usize>MAX_PAGES * PAGE_BYTES - chainStart - 2 * HEADER_BYTES;
}

/** Takes the initial memory past the static data: a free block if there is room for one. */
function startChain(): void {
  let memoryEnd = <usize>memory.size() * PAGE_BYTES;
  if (memoryEnd - heapStart < HEADER_BYTES) {
    if (memory.grow(1) < 0) unreachable();
    memoryEnd += PAGE_BYTES;
  }
  chainEnd = memoryEnd - HEADER_BYTES;
  const room = chainEnd - heapStart;
  chainStart = room >= HEADER_BYTES + SMALLEST_PAYLOAD ? heapStart : chainEnd;
  if (chainStart < chainEnd) writeHeader(chainStart, room - HEADER_BYTES, FREE);
}

/** The chain's last block when it is free (0 otherwise), as bestFit last saw it: growth extends it. */
let lastFree: usize = 0;

/**
 * Walks the chain, merging runs of free blocks, and returns the header of the smallest free
 * block with at least `size` payload bytes (0 if none).
 */
function bestFit(size: usize): usize {
  let best: usize = 0;
  let bestSize: usize = <usize>-1;
  lastFree = 0;
  let header = chainStart;
  while (header < chainEnd) {
    let next = nextHeader(header);
    if (blockState(header) == FREE) {
      while (next < chainEnd && blockState(next) == FREE) {
        writeHeader(header, payloadSize(header) + HEADER_BYTES + payloadSize(next), FREE);
        next = nextHeader(header);
      }
      const available = payloadSize(header);
      if (available >= size && available < bestSize) {
        best = header;
        bestSize = available;
      }
      if (next == chainEnd) lastFree = header;
    }
    header = next;
  }
  return best;
}

/** Grows memory so that a free block of at least `size` payload bytes ends the chain; false if it cannot. */
function grow(size: usize): bool {
  const memoryEnd = <usize>memory.size() * PAGE_BYTES;
  const foreign = memoryEnd - (chainEnd + HEADER_BYTES);
  const extending = foreign == 0 && lastFree != 0 && nextHeader(lastFree) == chainEnd;
  // Past the current end: what the free last block lacks, or a new block's payload and header
  // (and, after foreign pages, a second header, since the marker takes the one kept at chainEnd).
  const missing = extending ? size - payloadSize(lastFree) : size + (foreign == 0 ? 1 : 2) * HEADER_BYTES;
  const pages = <i32>((missing + PAGE_BYTES - 1) / PAGE_BYTES);
  if (pages > MAX_PAGES - memory.size() || memory.grow(pages) < 0) return false;
  const added = <usize>pages * PAGE_BYTES;
  if (extending) {
    writeHeader(lastFree, payloadSize(lastFree) + added, FREE);
  } else {
    if (foreign != 0) {
      writeHeader(chainEnd, foreign, FOREIGN);
      chainEnd = memoryEnd;
    }
    writeHeader(chainEnd, memoryEnd + added - chainEnd - 2 * HEADER_BYTES, FREE);
  }
  chainEnd = memoryEnd + added - HEADER_BYTES;
  return true;
}

/** A 16-byte aligned region of `bytes`, or 0 when wasm32's address space (or the engine) has no room. */
export function allocate(bytes: usize): usize {
  if (bytes > capacityBytes()) return 0;
  const size = bytes < SMALLEST_PAYLOAD ? SMALLEST_PAYLOAD : (bytes + 15) & ~<usize>15;
  let header = bestFit(size);
  if (header == 0) {
    if (!grow(size)) return 0;
    header = bestFit(size);
  }
  const available = payloadSize(header);
  if (available - size >= HEADER_BYTES + SMALLEST_PAYLOAD) {
    writeHeader(header + HEADER_BYTES + size, available - size - HEADER_BYTES, FREE);
    writeHeader(header, size, USED);
  } else {
    writeHeader(header, available, USED);
  }
  store<u32>(header, <u32>bytes, 8);
  liveBytes += bytes;
  liveRegions += 1;
  return header + HEADER_BYTES;
}

/**
 * Frees a region returned by allocate. Releasing anything else is a bug in the wrapper: a
 * second release, or an address outside the chain or not 16-aligned, traps.
 */
export function release(region: usize): void {
  const header = region - HEADER_BYTES;
  if (region < chainStart + HEADER_BYTES || region >= chainEnd || (region & 15) != 0 || blockState(header) != USED) unreachable();
  store<u32>(header, FREE, 4);
  liveBytes -= <usize>load<u32>(header, 8);
  liveRegions -= 1;
}

export function allocatedBytes(): usize {
  return liveBytes;
}

export function allocatedRegions(): i32 {
  return liveRegions;
}
