/**
 * Loading the optional peer packages from bench/node_modules.
 *
 * The peers live in bench/package.json so that the main package's install never downloads
 * them. Node resolves bare specifiers from the importing file's folder upwards, and the
 * compiled bench runs from dist/bench/, whose ancestors never contain bench/node_modules. So
 * we find the bench source folder (the one holding the peers' package.json) by walking up
 * from this file — which works both from dist/bench/peers/ and from bench/peers/ under
 * vitest/tsx — and resolve the peers with a `require` rooted there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PeerUnavailable } from './types.js';

const PEERS_PACKAGE_NAME = 'knnet-bench-peers';

function isPeersFolder(folder: string): boolean {
  const manifest = join(folder, 'package.json');
  if (!existsSync(manifest)) return false;
  try {
    return JSON.parse(readFileSync(manifest, 'utf8')).name === PEERS_PACKAGE_NAME;
  } catch {
    return false;
  }
}

let cachedBenchFolder: string | undefined;

/** The bench/ source folder (holding package.json, node_modules, results.*). */
export function benchFolder(): string {
  if (cachedBenchFolder) return cachedBenchFolder;
  const override = process.env.KNNET_BENCH_DIR;
  if (override) return (cachedBenchFolder = override);
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (isPeersFolder(folder)) return (cachedBenchFolder = folder);
    if (isPeersFolder(join(folder, 'bench'))) return (cachedBenchFolder = join(folder, 'bench'));
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`cannot find bench/package.json (name "${PEERS_PACKAGE_NAME}") above ${fileURLToPath(import.meta.url)}`);
    folder = parent;
  }
}

/** The absolute path a peer package resolves to from bench/, or undefined when it is not installed. */
export function resolvePeer(specifier: string): string | undefined {
  const requireFromBench = createRequire(join(benchFolder(), 'package.json'));
  try {
    return requireFromBench.resolve(specifier);
  } catch {
    return undefined;
  }
}

/** Imports a peer package installed in bench/node_modules; throws PeerUnavailable when absent. */
export async function importPeer<Module>(specifier: string): Promise<Module> {
  const resolved = resolvePeer(specifier);
  if (!resolved) {
    throw new PeerUnavailable(`${specifier} is not installed (run \`npm run bench:peers\`)`);
  }
  const imported = (await import(pathToFileURL(resolved).href)) as Module & { default?: unknown };
  return imported;
}
