// Builds the single-file executable: the CLI bundled into one CommonJS file, embedded in a copy of
// the Node that runs this script (Node's single executable applications). One binary per platform,
// built on that platform: the release workflow runs this on Linux x64/arm64, macOS and Windows.
//
//   npm run sea -- [--out DIR]      → DIR/slipway-<platform>-<arch>[.exe] (default DIR: sea/)
//
// SLIPWAY_BUILD_COMMIT names the commit (the release workflow sets it); otherwise git's HEAD, marked
// +modified when the working tree has uncommitted changes, so `slipway version` never overclaims.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
// The fuse Node's binaries carry; postject flips it so Node looks for the embedded blob.
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'sea' } } });
const out = path.resolve(root, values.out);
const name = `slipway-${process.platform}-${process.arch}${process.platform === 'win32' ? '.exe' : ''}`;
const target = path.join(out, name);
const work = mkdtempSync(path.join(tmpdir(), 'slipway-sea-'));
const log = (line: string): void => void process.stderr.write(`[sea] ${line}\n`);

try {
  const stamp = buildStamp();
  log(`bundling the CLI (${stamp})`);
  await bundle(path.join(work, 'cli.cjs'), stamp);
  writeFileSync(
    path.join(work, 'sea-config.json'),
    JSON.stringify({
      main: path.join(work, 'cli.cjs'),
      output: path.join(work, 'sea.blob'),
      disableExperimentalSEAWarning: true,
      // Compiled code in the blob: faster start, but only for this Node on this platform.
      useCodeCache: true,
      useSnapshot: false,
    }),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', path.join(work, 'sea-config.json')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  mkdirSync(out, { recursive: true });
  rmSync(target, { force: true });
  copyFileSync(process.execPath, target);
  chmodSync(target, 0o755);
  prepareBinary(target);
  log(`embedding the CLI into a copy of Node ${process.version} (${process.execPath})`);
  await inject(target, readFileSync(path.join(work, 'sea.blob')));
  if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', target]);
  log(`wrote ${path.relative(process.cwd(), target)} (${(statSync(target).size / 1e6).toFixed(1)} MB)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function buildStamp(): string {
  const given = process.env.SLIPWAY_BUILD_COMMIT;
  if (given) return given;
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  return `${git('rev-parse', 'HEAD')}${dirty ? '+modified' : ''}`;
}

/** The CLI as one CommonJS file (SEA runs CommonJS), its BUILD_COMMIT stamped. */
async function bundle(file: string, stamp: string): Promise<void> {
  const versionFile = path.join(root, 'src', 'core', 'version.ts');
  const stampVersion: Plugin = {
    name: 'stamp-version',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]core[\\/]version\.ts$/ }, (args) => {
        const empty = "export const BUILD_COMMIT: string = '';";
        const source = readFileSync(args.path, 'utf8');
        if (args.path !== versionFile || source.split(empty).length !== 2)
          throw new Error(`${args.path}: expected one \`${empty}\``);
        return {
          contents: source.replace(empty, `export const BUILD_COMMIT: string = '${stamp}';`),
          loader: 'ts',
        };
      });
    },
  };
  await build({
    // src/cli.ts awaits at the top level, which CommonJS cannot: the same door, with .then.
    stdin: {
      contents: [
        "import { runCli } from './src/cli/main.ts';",
        'void runCli(process.argv.slice(2), {',
        '  stdout: (text) => process.stdout.write(text),',
        '  stderr: (text) => process.stderr.write(text),',
        '  env: process.env,',
        '  cwd: process.cwd(),',
        '  isTty: process.stdout.isTTY,',
        '}).then((code) => { process.exitCode = code; });',
      ].join('\n'),
      resolveDir: root,
      sourcefile: 'sea-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
    outfile: file,
    plugins: [stampVersion],
  });
}

/** Makes room for the blob: a signed macOS Node must lose its signature; Linux's debug symbols go. */
function prepareBinary(file: string): void {
  if (process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', file]);
  if (process.platform === 'linux') {
    try {
      execFileSync('strip', [file]);
      log('stripped debug symbols (strip)');
    } catch {
      log('strip not found: the binary keeps its debug symbols (about 18 MB more)');
    }
  }
}

async function inject(file: string, blob: Buffer): Promise<void> {
  // postject ships no types; its API is one function.
  const postject = createRequire(import.meta.url)('postject') as {
    inject: (
      file: string,
      resource: string,
      data: Buffer,
      options: { sentinelFuse: string; machoSegmentName?: string },
    ) => Promise<void>;
  };
  await postject.inject(file, 'NODE_SEA_BLOB', blob, {
    sentinelFuse: FUSE,
    ...(process.platform === 'darwin' ? { machoSegmentName: 'NODE_SEA' } : {}),
  });
}
