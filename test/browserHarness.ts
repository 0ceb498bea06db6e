// Shared by the browser tests: Debian's Chromium driven by playwright-core, and a static file
// server (module scripts and workers do not load from file:// URLs).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, hasChromium } from '../bench/browser/chromium.js';
import { CROSS_ORIGIN_ISOLATION_HEADERS, serveFolders, type StaticServer } from '../bench/browser/server.js';

export { hasChromium, type StaticServer };
export const NO_CHROMIUM_MESSAGE =
  `browser tests skipped: ${CHROMIUM_PATH} is missing (apt-get install -y chromium; .ci/run installs it)`;

export interface Chromium {
  context: BrowserContext;
  /** A new page whose uncaught errors and console errors are collected in `errors`. */
  newPage(): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  // A fresh profile each run: nothing cached from an earlier build can hide a failure.
  const profile = await mkdtemp(join(tmpdir(), 'knnet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS, '--no-proxy-server'],
    viewport: { width: 1100, height: 800 },
  });
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      return { page, errors };
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Serves `root` on 127.0.0.1 at a free port; `/` maps to index.html. With `crossOriginIsolated`,
 * every file carries the COOP and COEP headers, so the page has SharedArrayBuffer.
 */
export function serveDirectory(root: string, options: { crossOriginIsolated?: boolean } = {}): Promise<StaticServer> {
  return serveFolders([{ urlPath: '/', folder: root }], options.crossOriginIsolated ? CROSS_ORIGIN_ISOLATION_HEADERS : {});
}

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** Whether the kernels are built and embedded, which the example pages import. */
export const wasmEmbedded = existsSync(join(root, 'src/generated/wasmBinary.ts'));

export interface OpenedExample {
  page: Page;
  /** Uncaught errors and console errors of the page. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Builds examples/`name` with Vite into a temporary folder, serves it on 127.0.0.1 (with
 * `crossOriginIsolated`, as serveDirectory does) and opens its index.html in a fresh headless
 * Chromium.
 */
export async function openExample(name: string, options: { crossOriginIsolated?: boolean } = {}): Promise<OpenedExample> {
  const out = await mkdtemp(join(tmpdir(), `knnet-${name}-`));
  const vite = join(root, 'node_modules/vite/bin/vite.js');
  await run(process.execPath, [vite, 'build', `examples/${name}`, '--outDir', out, '--emptyOutDir', '--base', './', '--logLevel', 'warn'], {
    cwd: root,
    timeout: 120_000,
  });
  const server = await serveDirectory(out, options);
  const chromium = await launchChromium();
  const { page, errors } = await chromium.newPage();
  await page.goto(`${server.url}/index.html`);
  return {
    page,
    errors,
    async close() {
      await chromium.close();
      await server.close();
      await rm(out, { recursive: true, force: true });
    },
  };
}
