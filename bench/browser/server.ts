/**
 * A static file server on 127.0.0.1 for the benchmark page: `/` serves the bundled page, and
 * PEERS_URL_PATH serves bench/node_modules, so the peers' scripts and wasm binaries come from
 * the local install. Nothing outside those two folders is served.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { PEERS_URL_PATH } from './protocol.js';

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

export interface PageServer {
  origin: string;
  close(): Promise<void>;
}

/** The file a URL path names inside `root`, or undefined when it leaves root or is no file. */
function fileIn(root: string, path: string): string | undefined {
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  if (!(file + sep).startsWith(normalize(root + sep))) return undefined;
  return existsSync(file) && statSync(file).isFile() ? file : undefined;
}

export async function servePage(pageFolder: string, peersFolder: string): Promise<PageServer> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const file = path.startsWith(PEERS_URL_PATH)
      ? fileIn(peersFolder, path.slice(PEERS_URL_PATH.length))
      : fileIn(pageFolder, path);
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    response.writeHead(200, {
      'content-type': MIME_TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the page server has no port');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
