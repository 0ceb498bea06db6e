/**
 * A static file server on 127.0.0.1 for pages under test or benchmark: each mount serves one
 * folder under a URL path prefix, `/` maps to index.html, and nothing outside the mounted
 * folders is served. The benchmark page mounts its bundle at `/` and bench/node_modules at
 * PEERS_URL_PATH (the peers' scripts and wasm binaries then come from the local install); the
 * browser tests mount a built example.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface StaticServer {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/** A folder served under a URL path prefix that starts and ends with '/'. */
export interface Mount {
  urlPath: string;
  folder: string;
}

/** The file a URL path names inside `root`, or undefined when it leaves root or is no file. */
function fileIn(root: string, path: string): string | undefined {
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  if (!(file + sep).startsWith(normalize(root + sep))) return undefined;
  return existsSync(file) && statSync(file).isFile() ? file : undefined;
}

/**
 * The headers that make a page cross-origin isolated, so that it gets SharedArrayBuffer (and
 * knnet its worker pool), sent with every file: a worker script served with them is isolated
 * too (the pthread workers onnxruntime-web starts from its .mjs), and the resource policy says
 * outright that this origin's isolated pages may load each file.
 */
export const CROSS_ORIGIN_ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/** Serves the mounts at a free port; the longest matching prefix wins. `headers` go on every file. */
export async function serveFolders(mounts: Mount[], headers: Record<string, string> = {}): Promise<StaticServer> {
  const byLength = [...mounts].sort((a, b) => b.urlPath.length - a.urlPath.length);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const mount = byLength.find(({ urlPath }) => path.startsWith(urlPath));
    const file = mount && fileIn(mount.folder, path.slice(mount.urlPath.length - 1));
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    response.writeHead(200, {
      'content-type': MIME_TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      ...headers,
    });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the static server has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
