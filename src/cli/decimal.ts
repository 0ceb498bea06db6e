// Decimal numbers, as the CLI reads them from CSV fields and from --k / --lambda: an optional
// sign, digits with an optional point, an optional exponent (1, -2.5, .5, 3e-4), with spaces
// or tabs around them ignored. Hexadecimal, Infinity, NaN and the empty string are not numbers
// here, although JavaScript's Number() takes them.

export const SPACE = 32;
export const TAB = 9;
const PLUS = 43;
const MINUS = 45;
const POINT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;

// 10^0 … 10^22, every one exactly representable in float64.
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Digits whose integer value is certainly below 2^53 (10^15 < 2^53 < 10^16). */
const EXACT_DIGITS = 15;

/**
 * Reads a decimal number from bytes[start…] (ASCII; spaces and tabs before it skipped) up to
 * the first byte that cannot continue it. Returns that byte's offset; the value is left in
 * `parsed.value`, NaN when the bytes so far are not a number.
 *
 * The value is the correctly rounded float64, exactly what Number() gives for that text. Short
 * numbers take Clinger's fast path: a mantissa m < 2^53 and a power of ten 10^e with |e| ≤ 22
 * are both exact in float64, so the one multiplication m·10^e (or division m/10^−e) rounds
 * the exact value once. Longer ones are handed to Number() once their syntax is checked.
 */
export function readDecimal(bytes: Uint8Array, start: number, end: number, parsed: { value: number }): number {
  let i = start;
  while (i < end && (bytes[i] === SPACE || bytes[i] === TAB)) i++;
  const first = i;
  let c = bytes[i]!;
  let negative = false;
  if (c === MINUS || c === PLUS) {
    negative = c === MINUS;
    c = bytes[++i]!;
  }
  let mantissa = 0;
  let significantDigits = 0;
  let digits = 0;
  let fractionDigits = 0;
  let inFraction = false;
  for (; i < end; c = bytes[++i]!) {
    if (c >= ZERO && c <= NINE) {
      digits++;
      if (inFraction) fractionDigits++;
      if (significantDigits > 0 || c !== ZERO) {
        significantDigits++;
        mantissa = mantissa * 10 + (c - ZERO);
      }
    } else if (c === POINT && !inFraction) {
      inFraction = true;
    } else {
      break;
    }
  }
  let exponent = 0;
  if (digits > 0 && i < end && (c === LOWER_E || c === UPPER_E)) {
    c = bytes[++i]!;
    let exponentNegative = false;
    if (c === MINUS || c === PLUS) {
      exponentNegative = c === MINUS;
      c = bytes[++i]!;
    }
    const exponentStart = i;
    for (; i < end && c >= ZERO && c <= NINE; c = bytes[++i]!) {
      // Beyond this the value is 0 or ∞ whatever the digits; the cap only keeps the sum exact.
      if (exponent < 1e6) exponent = exponent * 10 + (c - ZERO);
    }
    if (i === exponentStart) digits = 0;
    if (exponentNegative) exponent = -exponent;
  }
  if (digits === 0) {
    parsed.value = Number.NaN;
    return i;
  }
  const power = exponent - fractionDigits;
  if (significantDigits > EXACT_DIGITS || power < -22 || power > 22) {
    parsed.value = Number(Buffer.from(bytes.buffer, bytes.byteOffset + first, i - first).toString('latin1'));
    return i;
  }
  const magnitude = power < 0 ? mantissa / EXACT_POWERS_OF_TEN[-power]! : mantissa * EXACT_POWERS_OF_TEN[power]!;
  parsed.value = negative ? -magnitude : magnitude;
  return i;
}

const scratch = { value: 0 };

/** The value of bytes[start, end) if all of it (spaces aside) is a decimal number, else NaN. */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = readDecimal(bytes, start, end, scratch);
  while (i < end && (bytes[i] === SPACE || bytes[i] === TAB)) i++;
  return i === end ? scratch.value : Number.NaN;
}

/** parseDecimal of a string. */
export function decimalValue(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  return parseDecimal(bytes, 0, bytes.length);
}

/** A decimal number's exact value, spelled one way (see exactDecimal). */
export interface ExactDecimal {
  /** Equal for two texts exactly when they name the same number: "-125e-2" for "-1.250", "0" for "-0.0". */
  readonly key: string;
  /** Whether the number is a whole number (exactly, not after rounding to float64). */
  readonly whole: boolean;
}

const DECIMAL_TEXT = /^[ \t]*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?[ \t]*$/;

/**
 * The exact value of `text` if it is a decimal number (the syntax of readDecimal), else
 * undefined. Unlike float64 values, which round 9007199254740993 and 9007199254740992 into one,
 * two texts have the same key only when they are the same number.
 */
export function exactDecimal(text: string): ExactDecimal | undefined {
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '', fraction = '', exponentText = '0'] = match;
  if (whole.length + fraction.length === 0) return undefined;
  const digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return { key: '0', whole: true };
  const significant = digits.replace(/0+$/, '');
  // BigInt: an exponent of any length stays exact.
  const exponent = BigInt(exponentText) - BigInt(fraction.length) + BigInt(digits.length - significant.length);
  return { key: `${sign === '-' ? '-' : ''}${significant}e${exponent}`, whole: exponent >= 0n };
}
