// Allocation of linear-memory regions for the TypeScript wrapper.
//
// Regions are served from pages this module grows itself, not by the runtime's TLSF allocator:
// TLSF caps a block at 1 GiB, and when it grows it doubles the memory, which would hand it the
// address space that large regions need. The kernels allocate nothing through the runtime, so
// its heap is never set up; pages that anything else grows are stepped over, never handed out.
//
// Blocks tile the memory from the static data's end: a 16-byte header (payload size, state,
// bytes requested, the previous block's payload size), then the payload, so every payload is
// 16-byte aligned for v128 loads. Free blocks are linked through their payloads; an allocation
// takes the best-fitting free block and splits off the rest, and a release merges the block
// with free neighbours at once. When no free block fits, memory grows by the pages missing,
// extending the last block if it is free. Freed regions are reused by later allocations, which
// is the only way to keep a long-running process flat, since wasm memory can grow but never
// shrink.
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
// The chain of blocks tiles [chainStart, chainEnd). The 16 bytes at chainEnd are ours too: they
// hold the last block's size (so it can be found) and will be the header of whatever comes
// next: the next block, or the marker over pages someone else grew meanwhile (whose own bytes
// are not ours to write).
let chainStart: usize = 0;
let chainEnd: usize = 0;
/** The first free block (0 if none); each links to the next and previous in its payload. */
let freeHead: usize = 0;
// The chain starts on the first call that needs it, not when the module is instantiated: the
// workers of a pool instantiate the same module on the same (shared) memory, and must not
// write over the blocks the allocating instance has laid out. Only that one instance allocates.
let chainStarted = false;

let liveBytes: usize = 0;
let liveRegions: i32 = 0;

@inline function payloadSize(header: usize): usize { return <usize>load<u32>(header); }
@inline function blockState(header: usize): u32 { return load<u32>(header, 4); }
@inline function previousSize(header: usize): usize { return <usize>load<u32>(header, 12); }
@inline function nextFree(header: usize): usize { return <usize>load<u32>(header, 16); }
@inline function previousFree(header: usize): usize { return <usize>load<u32>(header, 20); }

/** Sets a block's payload size, and tells the header after it (a block's, or the one kept at chainEnd). */
function resize(header: usize, payload: usize): void {
  store<u32>(header, <u32>payload);
  store<u32>(header + HEADER_BYTES + payload, <u32>payload, 12);
}

function addFree(header: usize): void {
  store<u32>(header, FREE, 4);
  store<u32>(header, <u32>freeHead, 16);
  store<u32>(header, 0, 20);
  if (freeHead != 0) store<u32>(freeHead, <u32>header, 20);
  freeHead = header;
}

function removeFree(header: usize): void {
  const next = nextFree(header);
  const previous = previousFree(header);
  if (previous != 0) store<u32>(previous, <u32>next, 16);
  else freeHead = next;
  if (next != 0) store<u32>(next, <u32>previous, 20);
}

/** The block that ends at chainEnd (0 if the chain is empty). */
function lastBlock(): usize {
  return chainEnd > chainStart ? chainEnd - HEADER_BYTES - previousSize(chainEnd) : 0;
}

/**
 * What the allocator could hand out with nothing allocated: wasm32's 4 GiB less the page never
 * grown, the static data and two headers. No single request may be larger.
 */
export function capacityBytes(): usize {
  startChain();
  return <usize>MAX_PAGES * PAGE_BYTES - chainStart - 2 * HEADER_BYTES;
}

/** Takes the initial memory past the static data (once): a free block if there is room for one. */
function startChain(): void {
  if (chainStarted) return;
  chainStarted = true;
  let memoryEnd = <usize>memory.size() * PAGE_BYTES;
  if (memoryEnd - heapStart < HEADER_BYTES) {
    if (memory.grow(1) < 0) unreachable();
    memoryEnd += PAGE_BYTES;
  }
  chainEnd = memoryEnd - HEADER_BYTES;
  const room = chainEnd - heapStart;
  chainStart = room >= HEADER_BYTES + SMALLEST_PAYLOAD ? heapStart : chainEnd;
  if (chainStart == chainEnd) return;
  resize(chainStart, room - HEADER_BYTES);
  addFree(chainStart);
}

/** The smallest free block with at least `size` payload bytes (0 if none). */
function bestFit(size: usize): usize {
  let best: usize = 0;
  let bestSize: usize = <usize>-1;
  for (let header = freeHead; header != 0; header = nextFree(header)) {
    const available = payloadSize(header);
    if (available >= size && available < bestSize) {
      best = header;
      bestSize = available;
      if (available == size) break;
    }
  }
  return best;
}

/** Grows memory so that a free block of at least `size` payload bytes ends the chain; false if it cannot. */
function grow(size: usize): bool {
  const memoryEnd = <usize>memory.size() * PAGE_BYTES;
  const foreign = memoryEnd - (chainEnd + HEADER_BYTES);
  const last = lastBlock();
  const extending = foreign == 0 && last != 0 && blockState(last) == FREE;
  // Past the current end: what the free last block lacks, or a new block's payload and header
  // (and, after foreign pages, a second header, since the marker takes the one kept at chainEnd).
  const missing = extending ? size - payloadSize(last) : size + (foreign == 0 ? 1 : 2) * HEADER_BYTES;
  const pages = <i32>((missing + PAGE_BYTES - 1) / PAGE_BYTES);
  if (pages > MAX_PAGES - memory.size() || memory.grow(pages) < 0) return false;
  const added = <usize>pages * PAGE_BYTES;
  if (extending) {
    resize(last, payloadSize(last) + added);
  } else {
    if (foreign != 0) {
      store<u32>(chainEnd, FOREIGN, 4);
      resize(chainEnd, foreign);
      chainEnd = memoryEnd;
    }
    resize(chainEnd, memoryEnd + added - chainEnd - 2 * HEADER_BYTES);
    addFree(chainEnd);
  }
  chainEnd = memoryEnd + added - HEADER_BYTES;
  return true;
}

/** A 16-byte aligned region of `bytes`, or 0 when wasm32's address space (or the engine) has no room. */
export function allocate(bytes: usize): usize {
  startChain();
  if (bytes > capacityBytes()) return 0;
  const size = bytes < SMALLEST_PAYLOAD ? SMALLEST_PAYLOAD : (bytes + 15) & ~<usize>15;
  let header = bestFit(size);
  if (header == 0) {
    if (!grow(size)) return 0;
    header = bestFit(size);
  }
  removeFree(header);
  const available = payloadSize(header);
  if (available - size >= HEADER_BYTES + SMALLEST_PAYLOAD) {
    resize(header, size);
    const rest = header + HEADER_BYTES + size;
    resize(rest, available - size - HEADER_BYTES);
    addFree(rest);
  }
  store<u32>(header, USED, 4);
  store<u32>(header, <u32>bytes, 8);
  liveBytes += bytes;
  liveRegions += 1;
  return header + HEADER_BYTES;
}

/**
 * Frees a region returned by allocate, merging it with free neighbours. Releasing anything else
 * is a bug in the wrapper: a second release, or an address outside the chain or not 16-aligned,
 * traps.
 */
export function release(region: usize): void {
  startChain();
  const header = region - HEADER_BYTES;
  if (region < chainStart + HEADER_BYTES || region >= chainEnd || (region & 15) != 0 || blockState(header) != USED) unreachable();
  liveBytes -= <usize>load<u32>(header, 8);
  liveRegions -= 1;
  let block = header;
  let size = payloadSize(header);
  const next = header + HEADER_BYTES + size;
  if (next < chainEnd && blockState(next) == FREE) {
    removeFree(next);
    size += HEADER_BYTES + payloadSize(next);
  }
  if (header > chainStart) {
    const previous = header - HEADER_BYTES - previousSize(header);
    if (blockState(previous) == FREE) {
      removeFree(previous);
      size += HEADER_BYTES + payloadSize(previous);
      block = previous;
    }
  }
  resize(block, size);
  addFree(block);
}

export function allocatedBytes(): usize {
  return liveBytes;
}

export function allocatedRegions(): i32 {
  return liveRegions;
}
