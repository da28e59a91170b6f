// `npm test`: every check and every test, in the order that fails fastest. Nothing is skipped:
// the control plane is built (or taken from the cache) first, so a missing Go toolchain fails here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name: string): string => path.join(root, 'node_modules', '.bin', name);
const step = (title: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): void => {
  console.log(`\n== ${title}`);
  const started = Date.now();
  execFileSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`== ${title}: ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
};
const files = (dir: string): string[] =>
  readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => path.join(dir, file))
    .sort();

try {
  step('format (prettier)', bin('prettier'), ['--check', '--log-level', 'warn', '.']);
  step('lint (eslint, warnings fail)', bin('eslint'), ['--max-warnings', '0', '.']);
  step('types (tsc)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  step('dist/ is rebuilt from src/', process.execPath, ['scripts/check-dist.ts']);
  step('control plane and tools (built once, then cached)', process.execPath, [
    'test/cluster/cli.ts',
    'build',
  ]);
  const tests = [...files('test/unit'), ...files('test/integration'), ...files('test/e2e')];
  const tap = path.join(mkdtempSync(path.join(tmpdir(), 'slipway-test-')), 'results.tap');
  try {
    step(`tests (${tests.length} files)`, process.execPath, [
      '--test',
      '--test-concurrency=2',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...tests,
    ]);
  } finally {
    // One plain closing line, whatever the reporter above printed last.
    const totals = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
    const count = (name: string): number =>
      Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(totals)?.[1] ?? 0);
    console.log(
      `\n${count('pass')} passed, ${count('fail')} failed, ${count('skipped') + count('todo')} skipped`,
    );
  }
} catch {
  process.exitCode = 1;
}
