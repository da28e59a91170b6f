import { mkdirSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import type { CommandRunner, GitHistory } from '../core/ports.ts';

/** The repository's history through the `git` program. */
export class GitCli implements GitHistory {
  private readonly runner: CommandRunner;
  private readonly cwd: string;

  constructor(runner: CommandRunner, cwd: string) {
    this.runner = runner;
    this.cwd = cwd;
  }

  private async git(args: string[], what: string): Promise<string> {
    const result = await this.runner.run('git', args, { cwd: this.cwd, timeoutMs: 120_000 });
    if (result.exitCode !== 0) {
      throw new UserError('git', `git could not ${what}: ${result.stderr.trim().split('\n')[0] ?? ''}`, {
        hint: 'make sure both revisions are fetched (actions/checkout with fetch-depth: 0)',
      });
    }
    return result.stdout;
  }

  /** The URL of a remote (for the repository's identity); undefined without one. */
  async remoteUrl(name: string): Promise<string | undefined> {
    const result = await this.runner.run('git', ['remote', 'get-url', name], { cwd: this.cwd });
    return result.exitCode === 0 ? result.stdout.trim() || undefined : undefined;
  }

  async changedFiles(base: string, head: string): Promise<string[]> {
    // --no-renames lists both sides of a rename, so a file moved out of an environment counts.
    const out = await this.git(
      ['diff', '--name-only', '--no-renames', '-z', base, head, '--'],
      `compare ${base} with ${head}`,
    );
    return out
      .split('\0')
      .filter((name) => name !== '')
      .sort();
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const result = await this.runner.run('git', ['merge-base', '--is-ancestor', ancestor, descendant], {
      cwd: this.cwd,
    });
    return result.exitCode === 0;
  }

  async checkoutTree(revision: string, dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    // A throwaway index keeps the user's index and work tree untouched.
    const env = { GIT_INDEX_FILE: `${dir}.index`, GIT_WORK_TREE: dir };
    for (const args of [
      ['read-tree', revision],
      ['checkout-index', '-a', '-f'],
    ]) {
      const result = await this.runner.run('git', args, { cwd: this.cwd, env, timeoutMs: 120_000 });
      if (result.exitCode !== 0)
        throw new UserError('git', `git could not read revision ${revision}: ${result.stderr.trim()}`);
    }
  }

  async resolve(revision: string): Promise<string> {
    return (
      await this.git(['rev-parse', '--verify', `${revision}^{commit}`], `find revision ${revision}`)
    ).trim();
  }

  async mergeBase(a: string, b: string): Promise<string | undefined> {
    const result = await this.runner.run('git', ['merge-base', a, b], { cwd: this.cwd });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }
}
