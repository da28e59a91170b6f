// The single-file executable alone: size and cold start, merged into bench/results.json under
// `sea` without re-running the rest of the benchmark (bench/run.ts takes --sea to include it).
//
//   node bench/sea.ts [--binary sea/slipway-linux-x64] [--runs 20] [--out bench/results.json]
//
// Without --binary it builds one first (scripts/sea.ts, into a temporary folder).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { measureSea } from './support/sea.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    binary: { type: 'string' },
    runs: { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench/results.json' },
  },
});
const out = path.resolve(root, values.out);
const built = values.binary ? undefined : mkdtempSync(path.join(tmpdir(), 'slipway-sea-bench-'));
try {
  if (built)
    execFileSync(process.execPath, [path.join(root, 'scripts', 'sea.ts'), '--out', built], { cwd: root });
  const binary = values.binary
    ? path.resolve(values.binary)
    : path.join(built ?? '', readdirSync(built ?? '')[0] ?? '');
  const result = await measureSea(binary, path.join(root, 'dist', 'cli.js'), Number(values.runs));
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
  const sea = { measuredAt: new Date().toISOString(), ...result, binary: path.basename(binary) };
  const text = JSON.stringify({ ...previous, sea }, null, 2);
  writeFileSync(out, await format(text, { ...(await resolveConfig(out)), parser: 'json' }));
  console.log(
    `${sea.binary}: ${(sea.bytes / 1e6).toFixed(1)} MB; cold start (median of ${sea.runs}): ${Object.entries(
      sea.coldStartMs,
    )
      .map(([name, ms]) => `${name} ${ms} ms`)
      .join('; ')}`,
  );
} finally {
  if (built) rmSync(built, { recursive: true, force: true });
}
