// Column names inside the commands that hints suggest, written so that a shell reads them back
// as one argument: `--drop id`, `--drop "sepal length"`, `--drop "say \"hi\""`.

const PLAIN = /^[A-Za-z0-9_.:/@%+=-]+$/;

export function shellWord(text: string): string {
  return PLAIN.test(text) ? text : `"${text.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
}
