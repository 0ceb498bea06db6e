// "Did you mean …?" for a mistyped option or command: the closest name by edit distance, or the
// name that a word from another tool stands for (scikit-learn's n_neighbors is knnet's --k).

/**
 * Edits that turn `a` into `b`: insertions, deletions, substitutions and swaps of two adjacent
 * characters (the optimal string alignment distance), so "predcit" is one edit from "predict".
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic-programming table: the current one and the two before it.
  let beforePrevious = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, beforePrevious[j - 2]! + 1);
      current.push(best);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The name among `names` that `given` most likely meant: the one `synonyms` maps it to, else the
 * closest within 1 edit (names of up to 4 characters) or 2 edits (longer ones); undefined if
 * none is that close. Case, and "_" for "-", are not counted as edits.
 */
export function closestName(given: string, names: readonly string[], synonyms: Readonly<Record<string, string>> = {}): string | undefined {
  const normalize = (name: string) => name.toLowerCase().replaceAll('_', '-');
  const normal = normalize(given);
  const synonym = Object.hasOwn(synonyms, normal) ? synonyms[normal] : undefined;
  if (synonym !== undefined && names.includes(synonym)) return synonym;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const distance = editDistance(normal, normalize(name));
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return bestDistance <= (normal.length <= 4 ? 1 : 2) ? best : undefined;
}
