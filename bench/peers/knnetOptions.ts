/**
 * knnet's fit options that are still arriving — `algorithm` ('auto' | 'brute' | 'tree') and
 * `storage` ('auto' | 'float64' | 'float32') — pass through here, so the rows that ask for them
 * run today and light up once knnet has them.
 *
 * Support is detected once per option value, by fitting a network of four points with it (no
 * zero row, which the cosine metric refuses): a KnnError with code 'BAD_OPTION' means this
 * knnet does not take it. A network asked for an
 * option its knnet lacks is fitted without it, and says so in its row, never silently.
 */
import { KnnError, KnnNetwork } from '../../src/index.js';

export type Algorithm = 'auto' | 'brute' | 'tree';
export type Storage = 'auto' | 'float64' | 'float32';

/** The options not every knnet has; an absent one is not passed at all (knnet's default). */
export interface PendingOptions {
  algorithm?: Algorithm;
  storage?: Storage;
}

/** Said beside a row whose option this knnet does not take. */
export const NOT_YET_SUPPORTED = '(option not yet supported: ran default)';

const support = new Map<string, Promise<boolean>>();

async function probeSupport(name: string, value: string): Promise<boolean> {
  const options = { [name]: value } as Parameters<typeof KnnNetwork.fit>[2];
  try {
    const network = await KnnNetwork.fit({ data: Float64Array.of(1, 2, 3, 4), rows: 4, cols: 1 }, [0, 1, 0, 1], options);
    network.dispose();
    return true;
  } catch (error) {
    if (error instanceof KnnError && error.code === 'BAD_OPTION') return false;
    throw error;
  }
}

/** Whether this knnet's fit takes `name: value` (asked once per process). */
export function supportsOption(name: keyof PendingOptions, value: string): Promise<boolean> {
  const key = `${name}=${value}`;
  let answer = support.get(key);
  if (!answer) support.set(key, (answer = probeSupport(name, value)));
  return answer;
}

export interface AdaptedOptions {
  /** The options to fit with: `base` plus those pending options this knnet takes. */
  options: Record<string, unknown>;
  /** The pending options asked for and left out, as `algorithm: 'tree'`. */
  unsupported: string[];
}

/** `base` with every pending option this knnet supports; the others are listed, not passed. */
export async function adaptOptions(base: Record<string, unknown>, pending: PendingOptions): Promise<AdaptedOptions> {
  const options = { ...base };
  const unsupported: string[] = [];
  for (const [name, value] of Object.entries(pending) as [keyof PendingOptions, string | undefined][]) {
    if (value === undefined) continue;
    if (await supportsOption(name, value)) options[name] = value;
    else unsupported.push(`${name}: '${value}'`);
  }
  return { options, unsupported };
}

/** What a network reports as running (`searchAlgorithm`), where knnet reports it. */
export function searchAlgorithmOf(network: object): string | undefined {
  const value = (network as { searchAlgorithm?: unknown }).searchAlgorithm;
  return typeof value === 'string' ? value : undefined;
}

/**
 * The words a row carries about what ran: the options left out (with NOT_YET_SUPPORTED) and
 * the algorithm the network says it runs; empty when there is nothing to say.
 */
export function describeRun(unsupported: readonly string[], ranAlgorithm: string | undefined): string {
  const parts: string[] = [];
  if (unsupported.length > 0) parts.push(`${unsupported.join(', ')} ${NOT_YET_SUPPORTED}`);
  if (ranAlgorithm !== undefined) parts.push(`runs '${ranAlgorithm}'`);
  return parts.join('; ');
}

/**
 * knnet's fit with pending options: the network, and what its row must say (describeRun).
 * The data are read before the first await inside fit, as knnet reads every input.
 */
export async function fitWithPending(
  X: Parameters<typeof KnnNetwork.fit>[0], y: Parameters<typeof KnnNetwork.fit>[1], base: Record<string, unknown>, pending: PendingOptions,
): Promise<{ network: KnnNetwork; ran: string }> {
  const { options, unsupported } = await adaptOptions(base, pending);
  const network = await KnnNetwork.fit(X, y, options as Parameters<typeof KnnNetwork.fit>[2]);
  return { network, ran: describeRun(unsupported, searchAlgorithmOf(network)) };
}
