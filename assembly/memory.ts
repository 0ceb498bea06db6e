// Allocation of linear-memory regions for the TypeScript wrapper.
//
// Regions come from the runtime's TLSF allocator (16-byte aligned, so v128 loads never straddle
// a cache line needlessly); freed regions are reused by later allocations, which is the only way
// to keep a long-running process flat, since wasm memory can grow but never shrink.
// The counters are the allocator-level truth the wrapper's memory tests read.

let liveBytes: usize = 0;
let liveRegions: i32 = 0;

export function allocate(bytes: usize): usize {
  const region = heap.alloc(bytes > 0 ? bytes : 16);
  liveBytes += bytes;
  liveRegions += 1;
  return region;
}

export function release(region: usize, bytes: usize): void {
  heap.free(region);
  liveBytes -= bytes;
  liveRegions -= 1;
}

export function allocatedBytes(): usize {
  return liveBytes;
}

export function allocatedRegions(): i32 {
  return liveRegions;
}
