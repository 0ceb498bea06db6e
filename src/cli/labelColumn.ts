// What the training file's label column holds: numbers or text, and whether it is a set of
// classes at all.
//
// - Numbers only when every label's text round-trips through a float64: a whole number within
//   ±2^53 (beyond, neighbouring integers share one float64) that String() prints exactly as
//   written (so no leading zeros, no "1.0", no "1e3"). Any other column is text, compared and
//   printed as written: "007", "1.0" and 9007199254740993 stay themselves.
// - A column of decimal numbers is a continuous target, not classes, when one of them has a
//   fraction, or when its values look measured rather than chosen (see looksContinuous); both
//   are refused, pointing to --regression, unless --classify asks for classes anyway (then a
//   column that does not round-trip is text, so "0.1" and "0.10" are two classes).
import { exactDecimal, type ExactDecimal } from './decimal.js';
import { FileError } from './fileError.js';

/** The distinct labels of a column, in order of first appearance. */
export interface LabelTable {
  readonly names: readonly string[];
  /** Line of each label's first appearance. */
  readonly firstLines: readonly number[];
  /** Rows that hold each label. */
  readonly counts: ArrayLike<number>;
  readonly rows: number;
}

export interface LabelColumnContext {
  readonly path: string;
  /** 0-based position of the column in the file. */
  readonly column: number;
  readonly name: string;
  /** --classify: classes even when the column looks continuous. */
  readonly classify: boolean;
}

/** How the labels are read, and a warning to print (or undefined). */
export interface LabelDecision {
  readonly numeric: boolean;
  readonly warning?: string;
}

const LARGEST_EXACT_INTEGER = 2 ** 53;

/** The continuous-target rule, with its thresholds as the messages state them. */
export const CONTINUOUS_RULE = {
  /** More than this many distinct values… */
  minDistinct: 20,
  /** …fewer than this many rows per distinct value on average… */
  rowsPerValue: 3,
  /** …and at least 1/this of the distinct values seen in one row only. */
  singletonShare: 4,
  text: 'more than 20 distinct values, fewer than 3 rows per value on average, and at least a quarter of them seen once',
} as const;

/**
 * Whether distinct whole numbers look like a measured quantity rather than class labels: many
 * distinct values for the rows (a class needs several rows to be learnt from), a good share of
 * them seen once. scikit-learn's diabetes target (214 values in 442 rows, 84 seen once; 181 in
 * a 309-row split, 99 seen once) is refused; Iris, wine and digits (3 to 10 classes of 50 rows
 * or more) pass, and so do faces of 40 people with 10 photos each, or classes of two rows each.
 */
export function looksContinuous(distinct: number, singletons: number, rows: number): boolean {
  const rule = CONTINUOUS_RULE;
  return distinct > rule.minDistinct && distinct * rule.rowsPerValue > rows && singletons * rule.singletonShare >= distinct;
}

function roundTrips(name: string): boolean {
  const value = Number(name);
  return Number.isInteger(value) && Math.abs(value) <= LARGEST_EXACT_INTEGER && String(value) === name;
}

export function decideLabels(table: LabelTable, context: LabelColumnContext): LabelDecision {
  const { names, firstLines } = table;
  const exact = names.map(exactDecimal);
  if (!exact.every((value): value is ExactDecimal => value !== undefined)) return { numeric: false };
  if (!context.classify) refuseContinuous(table, exact, context);
  if (names.every(roundTrips)) return { numeric: true };
  // Text, since some label does not round-trip: say so if one number is written two ways.
  const seen = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const first = seen.get(exact[i]!.key);
    if (first !== undefined) {
      return {
        numeric: false,
        warning:
          `${context.path}: the labels "${names[first]}" (line ${firstLines[first]}) and "${names[i]}" (line ${firstLines[i]}) of "${context.name}" ` +
          'are one number written two ways, so they are two classes; write them alike to make them one',
      };
    }
    seen.set(exact[i]!.key, i);
  }
  return { numeric: false };
}

function refuseContinuous(table: LabelTable, exact: readonly ExactDecimal[], context: LabelColumnContext): void {
  const orClassify = 'or --classify to keep each value as a class';
  const fraction = exact.findIndex((value) => !value.whole);
  if (fraction >= 0) {
    throw new FileError(
      `${context.path}: line ${table.firstLines[fraction]}, column ${context.column + 1} ("${context.name}"): the label ${table.names[fraction]} is not a whole number: ` +
        `a numeric target with fractions is continuous, not a set of classes; pass --regression to predict it, ${orClassify}`,
    );
  }
  // Rows per number, whatever its spelling ("151" and "151.0" are one value).
  const rowsByValue = new Map<string, number>();
  exact.forEach((value, i) => rowsByValue.set(value.key, (rowsByValue.get(value.key) ?? 0) + table.counts[i]!));
  let singletons = 0;
  for (const rows of rowsByValue.values()) if (rows === 1) singletons++;
  if (looksContinuous(rowsByValue.size, singletons, table.rows)) {
    throw new FileError(
      `${context.path}: the target "${context.name}" looks continuous, not like classes: ${rowsByValue.size} distinct whole numbers in ${table.rows} rows, ` +
        `${singletons} of them seen once (knnet refuses a numeric target with ${CONTINUOUS_RULE.text}); pass --regression to predict it, ${orClassify}`,
    );
  }
}
