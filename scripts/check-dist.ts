// Fails when dist/ is not exactly what `npm run build` makes from src/ (a forgotten rebuild).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const fresh = mkdtempSync(path.join(tmpdir(), 'slipway-dist-'));
try {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.ts')], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SLIPWAY_DIST_OUT: fresh },
  });
  const list = (dir: string, prefix = ''): string[] =>
    readdirSync(dir)
      .flatMap((name) =>
        statSync(path.join(dir, name)).isDirectory()
          ? list(path.join(dir, name), `${prefix}${name}/`)
          : [`${prefix}${name}`],
      )
      .sort();
  const committed = list(path.join(root, 'dist'));
  const built = list(fresh);
  const problems: string[] = [];
  for (const file of new Set([...committed, ...built])) {
    if (!committed.includes(file)) problems.push(`missing from dist/: ${file}`);
    else if (!built.includes(file)) problems.push(`stale file in dist/: ${file}`);
    else if (!readFileSync(path.join(root, 'dist', file)).equals(readFileSync(path.join(fresh, file))))
      problems.push(`differs from a fresh build: dist/${file}`);
  }
  if (problems.length > 0) {
    console.error(
      `dist/ is out of date:\n  ${problems.join('\n  ')}\nRun \`npm run build\` and commit dist/.`,
    );
    process.exit(1);
  }
  console.log(`dist/ matches a fresh build (${built.length} files)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
