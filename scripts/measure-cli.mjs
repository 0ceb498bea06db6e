// Measures `knnet predict` on large files against the CLI's targets, on files generated in a
// temporary directory (nothing large is committed):
//   - parsing a ~100 MB training CSV of 10 numeric columns: MB/s, wall clock and CPU time,
//     beside csv-parse (and papaparse / d3-dsv when KNNET_CSV_PEERS names a node_modules that
//     has them) on a 20 MB prefix;
//   - the whole `knnet predict` of 200 test rows: wall time, and peak RSS against the budget
//     "the fitted network's wasm memory + one float64 copy of the training matrix + a small
//     constant" (the constant: the same command's peak RSS on Iris);
//   - a training file with a 100 000-column header.
// Run: npm run build && node scripts/measure-cli.mjs [--rows N]
// Figures from a shared machine vary with its load; CPU time varies less than wall time.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/src/cli.js');
const { CsvFile } = await import(join(root, 'dist/src/cli/csvFile.js'));
const { chooseTrainingColumns } = await import(join(root, 'dist/src/cli/columns.js'));
const { readTrainingData } = await import(join(root, 'dist/src/cli/trainingData.js'));

const rowsArgument = process.argv.indexOf('--rows');
const TRAIN_ROWS = rowsArgument > 0 ? Number(process.argv[rowsArgument + 1]) : 1_200_000; // ≈ 103 MB
const FEATURES = 9;
const PREFIX_ROWS = Math.round(TRAIN_ROWS / 5);

const dir = mkdtempSync(join(tmpdir(), 'knnet-measure-'));
const MB = 1e6;
const results = [];
const report = (target, measured, pass) => {
  results.push({ target, measured, result: pass === undefined ? '' : pass ? 'PASS' : 'FAIL' });
  console.log(`${target}: ${measured}${pass === undefined ? '' : pass ? '  PASS' : '  FAIL'}`);
};

/** Rows of FEATURES values with 5 decimals in [−50, 50) and a class 0…4, from a fixed seed. */
async function writeTrainingFile(path, rows, seed) {
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const out = createWriteStream(path);
  out.write(Array.from({ length: FEATURES }, (_, i) => `f${i}`).join(',') + ',label\n');
  for (let start = 0; start < rows; start += 10_000) {
    const lines = [];
    for (let r = start; r < Math.min(rows, start + 10_000); r++) {
      const fields = Array.from({ length: FEATURES }, () => (random() * 100 - 50).toFixed(5));
      fields.push(String(Math.floor(random() * 5)));
      lines.push(fields.join(','));
    }
    if (!out.write(lines.join('\n') + '\n')) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve) => out.end(resolve));
  return statSync(path).size;
}

/** Wall and CPU seconds of `work`. */
async function timed(work) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { value, wall: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 };
}

async function knnetParse(path) {
  const file = await CsvFile.open(path);
  try {
    const data = await readTrainingData(file, chooseTrainingColumns(file.header, path, {}), {}, () => {});
    return data.X.rows;
  } finally {
    await file.close();
  }
}

/** A peer CSV parser's rows, each field turned into a float64 as the CLI needs them. */
const peers = {
  async 'csv-parse'(path) {
    const { parse } = await import('csv-parse');
    const values = [];
    let rows = 0;
    const parser = createReadStream(path).pipe(parse({ from_line: 2 }));
    for await (const record of parser) {
      for (let i = 0; i < record.length; i++) values.push(Number(record[i]));
      rows++;
    }
    return rows;
  },
  async papaparse(path, peerRequire) {
    const Papa = peerRequire('papaparse');
    let rows = -1;
    const values = [];
    await new Promise((resolve, reject) => {
      Papa.parse(createReadStream(path), {
        step: ({ data }) => {
          if (rows++ >= 0) for (let i = 0; i < data.length; i++) values.push(Number(data[i]));
        },
        complete: resolve,
        error: reject,
      });
    });
    return rows;
  },
  async 'd3-dsv'(path, peerRequire) {
    // d3-dsv parses a whole string (no streaming).
    const { csvParseRows } = await import(peerRequire.resolve('d3-dsv'));
    const rows = csvParseRows(readFileSync(path, 'utf8'), (row) => row.map(Number));
    return rows.length - 1;
  },
};

/** Runs the CLI; returns wall seconds, peak RSS and the wasm memory's size, from inside the process. */
function runCli(args) {
  const probe = join(dir, 'probe.mjs');
  writeFileSync(
    probe,
    `import { writeSync } from 'node:fs';
const memories = [];
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (...args) => {
  const result = await instantiate.apply(WebAssembly, args);
  const instance = result.instance ?? result;
  for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) memories.push(value);
  return result;
};
process.on('exit', () => {
  const wasmBytes = memories.reduce((sum, memory) => sum + memory.buffer.byteLength, 0);
  const usage = process.resourceUsage();
  writeSync(3, JSON.stringify({ maxRss: usage.maxRSS * 1024, wasmBytes, cpu: (usage.userCPUTime + usage.systemCPUTime) / 1e6 }));
});
`,
  );
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['--import', probe, cli, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let measured = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdio[3].on('data', (chunk) => (measured += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`knnet ${args.join(' ')} exited with ${code}: ${stderr}`));
      resolve({ wall: (performance.now() - start) / 1000, stdout, stderr, ...JSON.parse(measured) });
    });
  });
}

try {
  console.log(`Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores)`);
  const trainPath = join(dir, 'train.csv');
  const prefixPath = join(dir, 'train-prefix.csv');
  const trainBytes = await writeTrainingFile(trainPath, TRAIN_ROWS, 42);
  const prefixBytes = await writeTrainingFile(prefixPath, PREFIX_ROWS, 42);
  await writeTrainingFile(join(dir, 'test.csv'), 200, 7);
  console.log(`training file: ${TRAIN_ROWS} rows × 10 columns, ${(trainBytes / MB).toFixed(1)} MB; prefix for the peers: ${(prefixBytes / MB).toFixed(1)} MB`);

  // Parsing.
  const full = await timed(() => knnetParse(trainPath));
  report('parse the training file ≥ 50 MB/s (wall clock)', `${(trainBytes / MB / full.wall).toFixed(1)} MB/s (${full.wall.toFixed(2)} s)`, trainBytes / MB / full.wall >= 50);
  report('parse the training file ≥ 50 MB/s (CPU time)', `${(trainBytes / MB / full.cpu).toFixed(1)} MB/s (${full.cpu.toFixed(2)} s)`, trainBytes / MB / full.cpu >= 50);
  const prefix = await timed(() => knnetParse(prefixPath));
  console.log(`\nparsers on the ${(prefixBytes / MB).toFixed(1)} MB prefix (MB/s of CPU time; wall clock in brackets):`);
  console.log(`  knnet        ${(prefixBytes / MB / prefix.cpu).toFixed(1)} (${(prefixBytes / MB / prefix.wall).toFixed(1)})`);
  const peerRoot = process.env.KNNET_CSV_PEERS;
  const peerRequire = createRequire(join(peerRoot ?? root, 'package.json'));
  for (const [name, parse] of Object.entries(peers)) {
    if (name !== 'csv-parse' && !peerRoot) {
      console.log(`  ${name.padEnd(12)} not measured (set KNNET_CSV_PEERS to a node_modules' parent that has it)`);
      continue;
    }
    const run = await timed(() => parse(prefixPath, peerRequire));
    if (run.value !== PREFIX_ROWS) throw new Error(`${name} read ${run.value} rows, not ${PREFIX_ROWS}`);
    const ratio = prefix.cpu / run.cpu;
    console.log(`  ${name.padEnd(12)} ${(prefixBytes / MB / run.cpu).toFixed(1)} (${(prefixBytes / MB / run.wall).toFixed(1)})  = ${ratio.toFixed(2)}× knnet's speed`);
  }

  // The whole command.
  const iris = await runCli(['predict', '--train', join(root, 'data/iris.csv'), '--test', join(root, 'data/iris.csv')]);
  const run = await runCli(['predict', '--train', 'train.csv', '--test', 'test.csv', '--k', '5']);
  console.log(`\nknnet predict (${TRAIN_ROWS} training rows, 200 test rows): ${run.stderr.trim()}`);
  report('whole `knnet predict` with 200 test rows ≤ 8 s (wall clock)', `${run.wall.toFixed(2)} s`, run.wall <= 8);
  report('whole `knnet predict` with 200 test rows ≤ 8 s (CPU time)', `${run.cpu.toFixed(2)} s`, run.cpu <= 8);
  const matrixBytes = TRAIN_ROWS * FEATURES * 8;
  const budget = run.wasmBytes + matrixBytes + iris.maxRss;
  console.log(
    `peak RSS ${(run.maxRss / MB).toFixed(0)} MB; wasm memory ${(run.wasmBytes / MB).toFixed(0)} MB + one float64 copy of X ${(matrixBytes / MB).toFixed(0)} MB` +
      ` + the command's peak on Iris ${(iris.maxRss / MB).toFixed(0)} MB = ${(budget / MB).toFixed(0)} MB`,
  );
  report('peak RSS ≤ wasm memory + one copy of X + a small constant', `${(run.maxRss / MB).toFixed(0)} MB ≤ ${(budget / MB).toFixed(0)} MB (${(run.maxRss / budget).toFixed(2)}× the budget)`, run.maxRss <= budget);

  // A wide header.
  const columns = 100_000;
  const names = Array.from({ length: columns }, (_, i) => `c${i}`);
  const zeros = (last) => names.map((_, i) => (i === columns - 1 ? last : 0)).join(',');
  writeFileSync(join(dir, 'wide-train.csv'), `${names.join(',')},label\n${zeros(0)},low\n${zeros(10)},high\n`);
  writeFileSync(join(dir, 'wide-test.csv'), `${[...names].reverse().join(',')}\n${zeros(9).split(',').reverse().join(',')}\n`);
  const wide = await runCli(['predict', '--train', 'wide-train.csv', '--test', 'wide-test.csv']);
  if (wide.stdout !== 'label\nhigh\n') throw new Error(`wide file predicted ${JSON.stringify(wide.stdout)}`);
  report('a 100 000-column header under 5 s (whole command)', `${wide.wall.toFixed(2)} s`, wide.wall < 5);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
