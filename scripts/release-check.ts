// Run by the release workflow before anything is built: the pushed tag, package.json,
// src/core/version.ts and CHANGELOG.md must name the same version, and the changelog must have its
// entry. Writes that entry to --notes FILE (the GitHub release's text).
//
//   node scripts/release-check.ts v0.1.0 [--notes FILE]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { VERSION } from '../src/core/version.ts';

export interface ReleaseCheck {
  readonly problems: string[];
  /** The changelog entry of the version, without its heading. */
  readonly notes: string;
}

/** Pure: what is wrong with releasing `tag` from these file contents. */
export function checkRelease(
  tag: string,
  files: { packageJson: string; changelog: string; sourceVersion: string },
): ReleaseCheck {
  const problems: string[] = [];
  const version = /^v(\d+\.\d+\.\d+)$/.exec(tag)?.[1];
  if (!version) problems.push(`tag "${tag}" is not v<major>.<minor>.<patch>`);
  const pkg = JSON.parse(files.packageJson) as { version?: string };
  if (version && pkg.version !== version)
    problems.push(`package.json has version ${pkg.version ?? '(none)'}, the tag says ${version}`);
  if (version && files.sourceVersion !== version)
    problems.push(`src/core/version.ts has VERSION ${files.sourceVersion}, the tag says ${version}`);
  const escaped = (version ?? '').replace(/\./g, '\\.');
  const entry = new RegExp(
    `^## \\[${escaped}\\] - \\d{4}-\\d{2}-\\d{2}\\n([\\s\\S]*?)(?=^## |^\\[|(?![\\s\\S]))`,
    'm',
  ).exec(files.changelog);
  if (version && !entry) problems.push(`CHANGELOG.md has no "## [${version}] - YYYY-MM-DD" entry`);
  const notes = entry?.[1]?.trim() ?? '';
  if (entry && notes === '') problems.push(`the CHANGELOG.md entry of ${version ?? ''} is empty`);
  return { problems, notes };
}

if (import.meta.main) {
  const root = path.resolve(import.meta.dirname, '..');
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { notes: { type: 'string' } },
  });
  const result = checkRelease(positionals[0] ?? '', {
    packageJson: readFileSync(path.join(root, 'package.json'), 'utf8'),
    changelog: readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'),
    sourceVersion: VERSION,
  });
  if (result.problems.length > 0) {
    console.error(`cannot release ${positionals[0] ?? '(no tag)'}:\n  ${result.problems.join('\n  ')}`);
    process.exit(1);
  }
  if (values.notes) writeFileSync(values.notes, `${result.notes}\n`);
  console.log(`release ${positionals[0] ?? ''}: tag, package.json, VERSION and CHANGELOG.md agree`);
}
