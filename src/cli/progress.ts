// A one-line progress bar on stderr, for a terminal only, and only once a phase has run long
// enough to look stalled without one.

const SHOW_AFTER_MS = 500;
const REDRAW_EVERY_MS = 100;
const WIDTH = 30;

export interface Progress {
  /** `fraction` of the phase is done (0…1); `detail` says what, e.g. "52,000 rows". */
  update(fraction: number, detail: string): void;
  /** Clears the bar. */
  finish(): void;
}

export interface Terminal {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * A bar labelled `label`. `toTerminalStdout`: the CSV itself scrolls past on the same terminal,
 * where a bar would mangle it.
 */
export function progressBar(label: string, toTerminalStdout: boolean, terminal: Terminal = process.stderr, now: () => number = Date.now): Progress {
  if (!terminal.isTTY || toTerminalStdout) return { update: () => {}, finish: () => {} };
  const started = now();
  let drawnAt = 0;
  let drawn = false;
  return {
    update(fraction, detail) {
      const time = now();
      if (time - started < SHOW_AFTER_MS || time - drawnAt < REDRAW_EVERY_MS) return;
      const clamped = Math.min(1, Math.max(0, fraction));
      const filled = Math.round(WIDTH * clamped);
      terminal.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(100 * clamped)}% ${detail}\x1b[K`);
      drawnAt = time;
      drawn = true;
    },
    finish() {
      if (drawn) terminal.write('\r\x1b[K');
    },
  };
}
