// Rebuilds dist/ from src/: tsc to lib/ (type-checked JavaScript), then ncc bundles each entry.
// Deterministic: the same sources and lockfile give byte-identical bundles (check-dist relies on it).
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

// client-node is loaded lazily (see connect.ts), so ncc gives it a chunk of its own, and ncc
// neither minifies nor tree-shakes such chunks: 19 MB per entry. Slipway uses one class of it,
// KubeConfig. esbuild bundles just that, tree-shaken and minified, as CommonJS (webpack takes it in
// as is), and lib/kube/connect.js imports it from there; ncc still bundles the entries.
const vendor = path.join(lib, 'vendor');
mkdirSync(vendor);
writeFileSync(path.join(vendor, 'entry.js'), "export { KubeConfig } from '@kubernetes/client-node';\n");
run(bin('esbuild'), [
  path.join(vendor, 'entry.js'),
  '--bundle',
  '--platform=node',
  '--format=cjs',
  '--target=node24',
  '--minify',
  '--log-level=warning',
  `--outfile=${path.join(vendor, 'client-node.cjs')}`,
  `--metafile=${path.join(vendor, 'meta.json')}`,
]);
const connectJs = path.join(lib, 'kube', 'connect.js');
const connectSource = readFileSync(connectJs, 'utf8');
if (connectSource.split("from '@kubernetes/client-node';").length !== 2)
  throw new Error('lib/kube/connect.js: expected one import from @kubernetes/client-node');
writeFileSync(
  connectJs,
  connectSource.replace("from '@kubernetes/client-node';", "from '../vendor/client-node.cjs';"),
);
// A release build names its commit (SLIPWAY_BUILD_COMMIT, set by the release workflow); the
// committed dist/ does not, so that it stays reproducible from src/ (see src/core/version.ts).
const commit = process.env.SLIPWAY_BUILD_COMMIT ?? '';
if (commit !== '') {
  if (!/^[0-9a-f]{40}(\+modified)?$/.test(commit))
    throw new Error('SLIPWAY_BUILD_COMMIT must be a full commit SHA (optionally +modified)');
  stampCommit(path.join(lib, 'core', 'version.js'), commit);
}

// ncc lists the licenses of the packages it bundles; those inside the pre-bundle it cannot see.
const vendored = new Map<string, string>();
const meta = JSON.parse(readFileSync(path.join(vendor, 'meta.json'), 'utf8')) as { inputs: object };
for (const input of Object.keys(meta.inputs)) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!match?.[1]) continue;
  const dir = path.resolve(root, match[1]);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    name: string;
    license?: string;
  };
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\..*)?$/i.test(f));
  const text = file ? readFileSync(path.join(dir, file), 'utf8').trim() : '';
  vendored.set(pkg.name, `${pkg.name}\n${pkg.license ?? ''}\n${text}`);
}

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
  const licenses = path.join(out, folder, 'licenses.txt');
  const listed = existsSync(licenses) ? readFileSync(licenses, 'utf8') : '';
  for (const [name, entry] of [...vendored].sort(([a], [b]) => (a < b ? -1 : 1)))
    if (!listed.startsWith(`${name}\n`) && !listed.includes(`\n\n${name}\n`))
      appendFileSync(licenses, `\n\n${entry}`);
  const shebang = entry === 'cli' ? '#!/usr/bin/env node\n' : '';
  writeFileSync(path.join(out, `${entry}.js`), `${shebang}import './${folder}/index.js';\n`, {
    mode: entry === 'cli' ? 0o755 : 0o644,
  });
}
writeFileSync(path.join(out, 'package.json'), '{ "type": "module" }\n');

/** Replaces the empty BUILD_COMMIT of a compiled version.ts (exactly one, or the build fails). */
function stampCommit(file: string, commit: string): void {
  const empty = "export const BUILD_COMMIT = '';";
  const source = readFileSync(file, 'utf8');
  if (source.split(empty).length !== 2) throw new Error(`${file}: expected one \`${empty}\``);
  writeFileSync(file, source.replace(empty, `export const BUILD_COMMIT = '${commit}';`));
}
