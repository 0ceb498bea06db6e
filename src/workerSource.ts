// The source of a pool worker, as a string: the pool starts it with `new Worker(source,
// { eval: true })` in Node and from a Blob URL in browsers, so the package ships no separate
// worker file for a bundler or a server to find. Plain JavaScript, no imports.
//
// Protocol. The pool sends { module, memory } once: the worker instantiates the kernels' shared
// build on that memory (its data segments hold constants only, and the allocator starts only on
// the thread that allocates, so this writes nothing the pool's thread relies on) and answers
// { ready: true }. Then each message { id, fence, calls } runs the kernel entries `calls`
// ([name, numeric arguments] pairs) in order and answers { id }, or { id, error } if one threw
// or trapped. Every pointer is the pool's thread's: it allocates the weights, each call's
// scratch and outputs; the worker only reads and writes them. The word at `fence` is read
// before and written after the calls with Atomics, so the worker sees everything the pool's
// thread wrote before sending, and the pool's thread everything the worker wrote before answering.
export const WORKER_SOURCE = String.raw`'use strict';
const workerThreads = typeof process === 'object' && process.versions && process.versions.node
  ? process.getBuiltinModule('node:worker_threads')
  : undefined;
const send = workerThreads ? (message) => workerThreads.parentPort.postMessage(message) : (message) => self.postMessage(message);
let kernels;
let memory;
function receive(message) {
  if (message.module) {
    try {
      memory = message.memory;
      kernels = new WebAssembly.Instance(message.module, { env: { memory } }).exports;
      send({ ready: true });
    } catch (error) {
      send({ ready: false, error: String(error && error.message || error) });
    }
    return;
  }
  const fence = new Int32Array(memory.buffer, message.fence, 1);
  try {
    Atomics.load(fence, 0);
    for (const [name, args] of message.calls) {
      // The allocator's state is the pool thread's instance's: here it would lay a second chain over the first.
      if (name === 'allocate' || name === 'release' || name === 'capacityBytes') throw new Error(name + ' runs on the pool thread only');
      kernels[name](...args);
    }
    Atomics.store(fence, 0, message.id);
    send({ id: message.id });
  } catch (error) {
    send({ id: message.id, error: String(error && error.message || error) });
  }
}
if (workerThreads) workerThreads.parentPort.on('message', receive);
else self.onmessage = (event) => receive(event.data);
`;
