// fit as a long call: options.signal aborts it between its steps (it rejects with the signal's
// reason, every byte it allocated freed), options.onProgress hears the share done; neither is an
// option of the network.
import { describe, expect, it } from 'vitest';
import { KnnNetwork, type KnnError } from '../src/index.js';
import { loadKernels } from '../src/wasm.js';
import { randomData } from './helpers.js';

const kernels = await loadKernels();
/** Bytes held by networks, not counting the shared scratch region. */
const heldByNetworks = (): number => kernels.allocatedBytes() - kernels.scratchBytesHeld();

describe('fit with a signal and onProgress', () => {
  it('tells rising shares of the work done, ending at 1, and keeps neither option in options or in the saved bytes', async () => {
    const { X, y } = randomData(1, 500, 8);
    const shares: number[] = [];
    const signal = new AbortController().signal;
    const net = await KnnNetwork.fit(X, y, { k: 3, signal, onProgress: (done) => shares.push(done) });
    expect(shares.length).toBeGreaterThanOrEqual(2);
    expect(shares.every((done, i) => done > 0 && done <= 1 && (i === 0 || done > shares[i - 1]))).toBe(true);
    expect(shares.at(-1)).toBe(1);
    expect(Object.keys(net.options)).not.toContain('signal');
    expect(Object.keys(net.options)).not.toContain('onProgress');
    const loaded = await KnnNetwork.fromBytes(net.toBytes());
    expect(loaded.options).toEqual(net.options);
    const plain = await KnnNetwork.fit(X, y, { k: 3 });
    expect(net.toBytes()).toEqual(plain.toBytes());
    for (const network of [net, loaded, plain]) network.dispose();
  });

  it('rejects with the reason of a signal aborted before, or at any step of, the call, and frees what it allocated', async () => {
    const { X, y } = randomData(2, 3000, 24);
    const before = heldByNetworks();
    const reason = new Error('stopped by the caller');
    const aborted = new AbortController();
    aborted.abort(reason);
    await expect(KnnNetwork.fit(X, y, { signal: aborted.signal })).rejects.toBe(reason);
    // Aborted while each step runs (onProgress is told between steps): the next turn rejects.
    for (const at of [0.7, 0.75]) {
      const controller = new AbortController();
      const onProgress = (done: number) => void (done === at && controller.abort(reason));
      await expect(KnnNetwork.fit(X, y, { k: 5, signal: controller.signal, onProgress })).rejects.toBe(reason);
      expect(heldByNetworks(), `aborted after ${at}`).toBe(before);
    }
    // From a timer set just before the call, with no reason given: an AbortError.
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 0);
    const error = await KnnNetwork.fit(X, y, { signal: controller.signal }).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('AbortError');
    expect(heldByNetworks()).toBe(before);
    // Fitting goes on as before.
    const net = await KnnNetwork.fit(X, y, { k: 5, signal: new AbortController().signal });
    expect(net.kneighbors(X, 1).indices[7]).toBe(7);
    net.dispose();
    expect(heldByNetworks()).toBe(before);
  });

  it('refuses a signal or onProgress of the wrong kind, and both on create', async () => {
    const code = (promise: Promise<unknown>) => promise.then(() => 'no error', (error: KnnError) => error.code);
    expect(await code(KnnNetwork.fit([[0], [1]], ['a', 'b'], { k: 1, signal: {} as AbortSignal }))).toBe('BAD_OPTION');
    expect(await code(KnnNetwork.fit([[0], [1]], ['a', 'b'], { k: 1, onProgress: 1 as never }))).toBe('BAD_OPTION');
    expect(await code(KnnNetwork.create({ signal: new AbortController().signal } as never))).toBe('BAD_OPTION');
  });
});
