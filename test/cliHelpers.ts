// Running the built `knnet` command from the CLI tests.
import { spawn, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const cliPath = join(root, 'dist/src/cli.js');
export const fixture = (name: string) => join(root, 'test/fixtures', name);

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `knnet ...args` in `cwd` and collects its exit code and output. */
export function knnet(args: string[], cwd: string, stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, stdio });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const csvOf = (header: string, rows: string[]) => [header, ...rows].join('\n') + '\n';
