// The single-file executable's size and cold start, next to `node dist/cli.js` on the same machine.
import { statSync } from 'node:fs';
import os from 'node:os';
import { loadAverage, median, runTimed } from './measure.ts';

export interface SeaResult {
  readonly binary: string;
  readonly bytes: number;
  readonly runs: number;
  readonly load: [number, number, number];
  /** Median wall time from spawn to exit, per command. */
  readonly coldStartMs: Record<string, number>;
  /** The fastest run: the least disturbed by other work on a shared machine. */
  readonly fastestMs: Record<string, number>;
  readonly samplesMs: Record<string, number[]>;
}

/** `runs` interleaved rounds of each command, from a neutral folder, with no CI variables. */
export async function measureSea(binary: string, cli: string, runs: number): Promise<SeaResult> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(GITHUB_|RUNNER_|INPUT_|ACTIONS_|CI$)/.test(key)),
  );
  const cases: [string, string, string[]][] = [
    ['node -e 0 (baseline)', process.execPath, ['-e', '0']],
    ['node dist/cli.js --help', process.execPath, [cli, '--help']],
    ['slipway (SEA) --help', binary, ['--help']],
    ['slipway (SEA) --version', binary, ['--version']],
  ];
  const samples: Record<string, number[]> = {};
  const load = loadAverage();
  for (let i = 0; i < runs; i++) {
    for (const [name, command, args] of cases) {
      const run = await runTimed(command, args, { env, cwd: os.tmpdir() });
      if (run.code !== 0) throw new Error(`${name} exited ${run.code}`);
      (samples[name] ??= []).push(Math.round(run.ms));
    }
  }
  return {
    binary,
    bytes: statSync(binary).size,
    runs,
    load,
    coldStartMs: Object.fromEntries(Object.entries(samples).map(([name, ms]) => [name, median(ms)])),
    fastestMs: Object.fromEntries(Object.entries(samples).map(([name, ms]) => [name, Math.min(...ms)])),
    samplesMs: samples,
  };
}
