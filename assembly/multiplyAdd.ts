// a·b + c per lane. The relaxed-SIMD build (compiled with --enable relaxed-simd) fuses it into one
// instruction, rounded once; the plain build multiplies and adds, rounded twice. A kernel that uses
// these must therefore only *select* (its result is rechecked by a kernel that does not), or
// state the bound that covers both roundings.

@inline export function multiplyAddF64x2(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(f64x2.mul(a, b), c);
}

@inline export function multiplyAddF32x4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
