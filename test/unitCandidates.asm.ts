// Entries for the tests of one-query candidate values (test/unitCandidates.test.ts), compiled by
// that test alone: float32 storage's packing, the query's layout, storedUnitGemmSingle and its
// bound, and the float32 copy's group and one-query kernels, which the shipped kernels keep
// internal.
export { packFloat32Norms, packFloat32Rows, packUnitFactors } from '../assembly/float32Storage';
export { float32DistanceGemm, float32DistanceGemmSingle } from '../assembly/float32Distance';
export { prepareStoredQueries, queryCentreProduct, storedUnitGemmSingle, storedUnitSingleErrorBound, unitScalesBounded, unitSingleBoundPart } from '../assembly/storedDistance';

/** The first free byte of this module's memory, 16-byte aligned: the test's memory starts here. */
export function freeMemory(): usize {
  return (__heap_base + 15) & ~<usize>15;
}
