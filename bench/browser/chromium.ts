/**
 * Runs the benchmark page in headless Chromium: bundles page.ts with esbuild into a temporary
 * folder, serves it and bench/node_modules on 127.0.0.1 cross-origin isolated (so that knnet and
 * onnxruntime-web can start threads), opens it in a fresh profile with every request to anywhere
 * else refused, and returns what the page reports.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { chromium } from 'playwright-core';
import { benchFolder, resolvePeer } from '../peers/resolve.js';
import {
  PEER_FILES, PEERS_URL_PATH, STATIC_KDTREE_BUNDLE, type BrowserImplementationName, type BrowserRequest, type PageReport,
} from './protocol.js';
import { CROSS_ORIGIN_ISOLATION_HEADERS, serveFolders } from './server.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);

/** Headless, and no background traffic: this machine's network is closed. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const PAGE_HTML = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>knnet browser benchmark</title>
<p id="build"></p>
<script type="module" src="./page.js"></script>
</html>
`;

const ONNX_RUNTIME_WEB_FILES = [PEER_FILES.onnxRuntime, PEER_FILES.onnxRuntimeWasmModule, PEER_FILES.onnxRuntimeWasm];
const PEERS_NEEDED: [BrowserImplementationName, string, string[]][] = [
  ['onnx-web-f64', 'onnxruntime-web', ONNX_RUNTIME_WEB_FILES],
  ['onnx-web-f32', 'onnxruntime-web', ONNX_RUNTIME_WEB_FILES],
  ['onnx-web-2t-f64', 'onnxruntime-web', ONNX_RUNTIME_WEB_FILES],
  ['onnx-web-2t-f32', 'onnxruntime-web', ONNX_RUNTIME_WEB_FILES],
  ['tfjs', '@tensorflow/tfjs-backend-wasm', [PEER_FILES.tensorFlowCore, PEER_FILES.tensorFlowWasmBackend, PEER_FILES.tensorFlowWasm]],
];

/** Why each implementation whose peer files are missing from bench/node_modules cannot run. */
export function missingPeers(): Map<BrowserImplementationName, string> {
  const peers = join(benchFolder(), 'node_modules');
  const missing = new Map<BrowserImplementationName, string>();
  for (const [implementation, packageName, files] of PEERS_NEEDED) {
    const absent = files.find((file) => !existsSync(join(peers, file)));
    if (absent) missing.set(implementation, `${packageName} is not installed (run \`npm run bench:peers\`): no bench/node_modules/${absent}`);
  }
  return missing;
}

/**
 * static-kdtree's typed-array pool (typedarray-pool) requires Node's `buffer` for one test,
 * `Buffer.isBuffer(array)` when an array is freed (its Buffer allocator is never called by the
 * tree): in the page no array is a Buffer.
 */
const bufferStub: Plugin = {
  name: 'buffer-stub',
  setup(builder) {
    builder.onResolve({ filter: /^buffer$/ }, () => ({ path: 'buffer', namespace: 'buffer-stub' }));
    builder.onLoad({ filter: /.*/, namespace: 'buffer-stub' }, () => ({ contents: 'exports.Buffer = { isBuffer: () => false };', loader: 'js' }));
  },
};

/**
 * static-kdtree is CommonJS spread over a dozen small packages (written for browserify): it is
 * bundled into one ES module beside the page (default export: createKDTree), which the page
 * imports by URL, so the page builds and runs without it when it is not installed. Its pool
 * reads Node's `global` and `buffer` (bufferStub).
 */
async function bundleStaticKdtree(folder: string): Promise<void> {
  if (!resolvePeer('static-kdtree')) return;
  await build({
    stdin: { contents: "export { default } from 'static-kdtree';", resolveDir: benchFolder(), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { global: 'globalThis' },
    plugins: [bufferStub],
    outfile: join(folder, STATIC_KDTREE_BUNDLE),
    logLevel: 'warning',
  });
}

/** Bundles the page (from page.ts under vitest or tsx, page.js when compiled) into `folder`. */
async function bundlePage(folder: string): Promise<void> {
  const here = fileURLToPath(import.meta.url);
  await build({
    entryPoints: [join(dirname(here), `page${extname(here)}`)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(folder, 'page.js'),
    logLevel: 'warning',
  });
  await writeFile(join(folder, 'index.html'), PAGE_HTML);
  await bundleStaticKdtree(folder);
}

export interface PageRun {
  report: PageReport;
  /** "HeadlessChrome/…" as the user agent names it. */
  browser: string;
}

/** Runs one request in one fresh page; `log` receives the page's progress lines. */
export async function runPage(request: BrowserRequest, log: (line: string) => void = console.log): Promise<PageRun> {
  const folder = await mkdtemp(join(tmpdir(), 'knnet-browser-bench-'));
  const profile = join(folder, 'profile'); // a fresh --user-data-dir each run
  const pageFolder = join(folder, 'page');
  await bundlePage(pageFolder);
  const server = await serveFolders([
    { urlPath: '/', folder: pageFolder },
    { urlPath: PEERS_URL_PATH, folder: join(benchFolder(), 'node_modules') },
  ], CROSS_ORIGIN_ISOLATION_HEADERS);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  try {
    const refused: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === server.url) return route.continue();
      refused.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
      else log(message.text());
    });
    await page.goto(`${server.url}/index.html`);
    try {
      await page.waitForFunction(() => 'runBrowserBench' in window, undefined, { timeout: 60_000 });
    } catch (error) {
      throw new Error(`the benchmark page did not start: ${errors.join('; ') || (error as Error).message}`);
    }
    // The two-thread rows would silently run on one thread (or not at all) in a page without
    // shared memory: stop here instead.
    if (!(await page.evaluate(() => crossOriginIsolated))) {
      throw new Error(`the benchmark page is not cross-origin isolated (the server must send ${Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS).map(([name, value]) => `${name}: ${value}`).join(', ')})`);
    }
    const report = await page.evaluate(
      (pageRequest) => (window as unknown as { runBrowserBench(r: BrowserRequest): Promise<PageReport> }).runBrowserBench(pageRequest),
      request,
    );
    if (refused.length > 0) report.notes.push(`requests refused (not on the local server): ${refused.join(', ')}`);
    for (const error of errors) report.notes.push(`page error: ${error}`);
    const browser = /HeadlessChrome\/[\d.]+|Chrome\/[\d.]+/.exec(report.userAgent)?.[0] ?? report.userAgent;
    return { report, browser };
  } finally {
    await context.close();
    await server.close();
    await rm(folder, { recursive: true, force: true });
  }
}
