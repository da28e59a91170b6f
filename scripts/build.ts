// Rebuilds dist/ from src/: tsc to lib/ (type-checked JavaScript), then ncc bundles each entry.
// Deterministic: the same sources and lockfile give byte-identical bundles (check-dist relies on it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name: string): string => path.join(root, 'node_modules', '.bin', name);
const run = (command: string, args: string[]): void => {
  execFileSync(command, args, { cwd: root, stdio: 'inherit' });
};

const lib = path.join(root, 'lib');
rmSync(lib, { recursive: true, force: true });
run(bin('tsc'), ['-p', 'tsconfig.build.json']);
writeFileSync(path.join(root, 'lib', 'package.json'), '{ "type": "module" }\n');

// SLIPWAY_DIST_OUT lets check-dist build elsewhere and compare, leaving dist/ untouched.
const out = path.resolve(root, process.env.SLIPWAY_DIST_OUT ?? 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// Each entry gets its own folder: ncc names lazily loaded chunks by number, and two entries'
// chunks would collide in one folder. dist/index.js and dist/cli.js are one-line doors into them.
for (const [entry, folder] of [
  ['index', 'action'],
  ['cli', 'cli'],
] as const) {
  run(bin('ncc'), [
    'build',
    path.join('lib', `${entry}.js`),
    '-o',
    path.join(out, folder),
    '--minify',
    '--no-source-map-register',
    '--quiet',
    '--license',
    'licenses.txt',
  ]);
  rmSync(path.join(out, folder, 'package.json'), { force: true });
  const shebang = entry === 'cli' ? '#!/usr/bin/env node\n' : '';
  writeFileSync(path.join(out, `${entry}.js`), `${shebang}import './${folder}/index.js';\n`, {
    mode: entry === 'cli' ? 0o755 : 0o644,
  });
}
writeFileSync(path.join(out, 'package.json'), '{ "type": "module" }\n');
