/**
 * How many bytes a knnet network holds. knnet has no public figure for it yet, so two readings:
 * - the kernels' allocator counter (`allocatedBytes`, as test/memory.test.ts reads it), taken
 *   before and after a fit: the network's own regions. It is internal, so it is loaded by a
 *   computed specifier, and a knnet without it gives undefined instead of breaking the build;
 *   it counts the 1-thread kernels of the selected build only (not a pool's shared memory, not
 *   shards in other instances).
 * - the growth of this process's resident memory over the fit: everything the fit touched, the
 *   wasm memory's growth included, but also transient copies; only meaningful on a first fit in
 *   a fresh process, since a freed wasm region is reused, never returned.
 */

interface AllocatorCounter {
  allocatedBytes(): number;
  scratchBytesHeld?(): number;
}

/** The selected build's kernels, through knnet's internal loader, or undefined where it is not there. */
async function kernels(): Promise<AllocatorCounter | undefined> {
  try {
    const specifier = new URL('../../src/wasm.js', import.meta.url).href;
    const module = (await import(specifier)) as { loadKernels?: () => Promise<AllocatorCounter> };
    const loaded = await module.loadKernels?.();
    return typeof loaded?.allocatedBytes === 'function' ? loaded : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes the allocator holds for networks (the shared query scratch left out), or undefined. */
export async function allocatedNetworkBytes(): Promise<number | undefined> {
  const counter = await kernels();
  if (!counter) return undefined;
  return counter.allocatedBytes() - (counter.scratchBytesHeld?.() ?? 0);
}

export const residentBytes = (): number => process.memoryUsage.rss();

export interface NetworkBytes {
  /** Allocator growth over the fit, or undefined when the counter is not available. */
  allocated?: number;
  /** Resident memory growth over the fit. */
  resident: number;
}

/** Runs `fit` and measures both readings around it. */
export async function measureFitBytes<T>(fit: () => Promise<T>): Promise<{ value: T; bytes: NetworkBytes }> {
  const allocatedBefore = await allocatedNetworkBytes();
  const residentBefore = residentBytes();
  const value = await fit();
  const allocatedAfter = await allocatedNetworkBytes();
  return {
    value,
    bytes: {
      allocated: allocatedBefore === undefined || allocatedAfter === undefined ? undefined : allocatedAfter - allocatedBefore,
      resident: residentBytes() - residentBefore,
    },
  };
}
