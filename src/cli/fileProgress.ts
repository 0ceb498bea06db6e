// A progress bar for one pass over a CSV file, by the share of its bytes read.
import type { CsvFile } from './csvFile.js';
import { progressBar } from './progress.js';

export function fileProgress(label: string, file: CsvFile, toTerminalStdout: boolean) {
  const bar = progressBar(label, toTerminalStdout);
  return {
    update: (rows: number) => bar.update(file.size ? file.bytesRead / file.size : 0, `${rows.toLocaleString('en-US')} rows`),
    finish: () => bar.finish(),
  };
}
