// Compiles src/ and bench/ to dist/ with tsc (tsconfig.build.json), incrementally: tsc keeps
// what it knows in dist/tsconfig.build.tsbuildinfo and re-checks and re-emits only the files
// whose contents changed. tsc does not notice an output deleted by hand, so when any file it
// would write is missing, its record is dropped first and everything is emitted again.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ts = createRequire(import.meta.url)('typescript');
const configPath = join(root, 'tsconfig.build.json');

const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
const record = config?.options.tsBuildInfoFile;
if (!config || !record) {
  console.error('build-ts: tsconfig.build.json must name a tsBuildInfoFile');
  process.exit(1);
}
const missing = config.fileNames.flatMap((file) => ts.getOutputFileNames(config, file, false)).filter((output) => !existsSync(output));
if (missing.length > 0 && existsSync(record)) {
  console.log(`build-ts: ${missing.length} output(s) missing (${missing[0]}…): emitting everything again`);
  rmSync(record);
}
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', configPath], { cwd: root, stdio: 'inherit' });
process.exit(tsc.status ?? 1);
