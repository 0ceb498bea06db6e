// Scoring the predictions against the test file's own target column, row by row as they stream
// by. Rows with an empty target are predicted but not scored.
import type { Label } from '../labels.js';
import { rSquared } from '../scoring.js';
import { exactDecimal } from './decimal.js';
import { GrowableArray } from './growableArray.js';

/** The score of a run, or why there is none. */
export type Score =
  | { readonly kind: 'accuracy' | 'R²'; readonly value: number; readonly labelled: number; readonly rows: number }
  | { readonly kind: 'none'; readonly reason?: string };

export interface TestScore {
  /**
   * One row: its prediction, and its target as written and as a decimal number (NaN if not
   * one). `where` names the field for messages.
   */
  add(predicted: Label | number, truth: string, truthValue: number, where: () => string): void;
  /** The score of the `rows` rows predicted. */
  result(rows: number): Score;
}

/**
 * Accuracy in one label type decided from both files: numbers when the training labels and
 * every test label are decimal numbers, otherwise text as written (predicted labels as they
 * appear in the output). Numbers compare by exact value ("2.0" is the class 2, but
 * 9007199254740993 is not the class 9007199254740992, although float64 rounds one to the
 * other). Both comparisons are counted as the rows stream by.
 */
export class AccuracyScore implements TestScore {
  #labelled = 0;
  #textMatches = 0;
  #numberMatches = 0;
  #allNumeric = true;

  constructor(private readonly numericClasses: boolean, private readonly column: string) {}

  add(predicted: Label, truth: string): void {
    if (truth === '') return;
    this.#labelled++;
    const predictedText = String(predicted);
    if (predictedText === truth) this.#textMatches++;
    if (!this.#allNumeric) return;
    const exact = exactDecimal(truth);
    if (exact === undefined) this.#allNumeric = false;
    else if (exact.key === exactDecimal(predictedText)?.key) this.#numberMatches++;
  }

  result(rows: number): Score {
    if (this.#labelled === 0) return { kind: 'none', reason: `no accuracy: the target column ${this.column} is empty` };
    const matches = this.numericClasses && this.#allNumeric ? this.#numberMatches : this.#textMatches;
    return { kind: 'accuracy', value: matches / this.#labelled, labelled: this.#labelled, rows };
  }
}

/** R² over the labelled rows; a target that is not a number turns it off, with a note. */
export class RSquaredScore implements TestScore {
  readonly #predicted = new GrowableArray(Float64Array);
  readonly #truth = new GrowableArray(Float64Array);
  #unscorable: string | undefined;

  constructor(private readonly column: string) {}

  add(predicted: number, truth: string, truthValue: number, where: () => string): void {
    if (truth === '' || this.#unscorable !== undefined) return;
    if (!Number.isFinite(truthValue)) {
      this.#unscorable = `${where()} holds ${JSON.stringify(truth)}, not a number`;
      return;
    }
    this.#predicted.reserve(1);
    this.#truth.reserve(1);
    this.#predicted.values[this.#predicted.length++] = predicted;
    this.#truth.values[this.#truth.length++] = truthValue;
  }

  result(rows: number): Score {
    if (this.#unscorable !== undefined) return { kind: 'none', reason: `no R²: ${this.#unscorable}` };
    const labelled = this.#truth.length;
    if (labelled === 0) return { kind: 'none', reason: `no R²: the target column ${this.column} is empty` };
    return { kind: 'R²', value: rSquared(this.#predicted.finish(), this.#truth.finish()), labelled, rows };
  }
}
