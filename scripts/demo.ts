// `npm run demo`: the whole Slipway loop on a local control plane, narrated.
// Build → start the cluster → copy examples/gitops-repo into a temp git repo → plan (the PR
// comment) → apply (the merge) → change and plan again (an update and a prune) → apply → drift made
// with kubectl and detected → stop the cluster.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCluster } from '../test/cluster/cluster.ts';

const root = path.resolve(import.meta.dirname, '..');
const started = Date.now();
const bold = (text: string): string => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[0m` : text);
const say = (text: string): void => {
  console.log(`\n${bold(`▶ ${text}`)}  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
};

say('Building dist/ from src/');
execFileSync(process.execPath, [path.join(root, 'scripts', 'build.ts')], { cwd: root, stdio: 'inherit' });

say('Starting the local control plane (the first run builds it from the Kubernetes Go modules: ~5–15 min)');
const cluster = await startCluster({ log: (line) => console.log(`  ${line}`) });
const repo = mkdtempSync(path.join(tmpdir(), 'slipway-demo-'));
const summaryFile = path.join(repo, '..', `${path.basename(repo)}-summary.md`);
try {
  const env = { ...process.env, ...cluster.env, KUBECONFIG: cluster.adminKubeconfig };
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: repo, encoding: 'utf8', env }).trim();
  const cli = (args: string[], allowFailure = false): string => {
    console.log(`  $ slipway ${args.join(' ')}`);
    try {
      return execFileSync(process.execPath, [path.join(root, 'dist', 'cli.js'), ...args], {
        cwd: repo,
        encoding: 'utf8',
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    } catch (error) {
      if (allowFailure) return (error as { stdout?: string }).stdout ?? '';
      throw error;
    }
  };
  const kubectl = (...args: string[]): string =>
    execFileSync(cluster.kubectl, args, { encoding: 'utf8', env });

  say(`Copying examples/gitops-repo into a new git repository at ${repo}`);
  cpSync(path.join(root, 'examples', 'gitops-repo'), repo, { recursive: true });
  git('init', '-q', '-b', 'main');
  git(
    '-c',
    'user.email=demo@example.com',
    '-c',
    'user.name=Demo',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    'empty',
  );
  git('add', '-A');
  git(
    '-c',
    'user.email=demo@example.com',
    '-c',
    'user.name=Demo',
    'commit',
    '-q',
    '-m',
    'Add the shop to beta and live',
  );

  say('Pull request: which environments does the change touch?');
  console.log(cli(['detect', '--base', 'HEAD~1', '--head', 'HEAD']));

  say('Pull request: the plan for beta, as the sticky PR comment shows it');
  const comment = cli(['diff', '--env', 'beta', '--format', 'markdown']);
  writeFileSync(summaryFile, comment);
  console.log(comment.split('\n').slice(0, 40).join('\n'));
  console.log(
    `  … (${comment.length} characters; the whole comment, as the job summary would hold it: ${summaryFile})`,
  );

  say('Merge: apply beta (server-side apply, inventory, health)');
  console.log(cli(['apply', '--env', 'beta']));
  console.log(kubectl('get', 'deploy,svc,cm,secret,storefronts', '-n', 'shop-beta'));

  say(
    'A second pull request: two replicas, a changed setting (a new generated ConfigMap), and the storefront removed from Git',
  );
  const replicas = path.join(repo, 'beta-cluster', 'apps', 'replicas.yaml');
  writeFileSync(replicas, readFileSync(replicas, 'utf8').replace('replicas: 1', 'replicas: 2'));
  const settings = path.join(repo, 'base', 'settings.properties');
  writeFileSync(
    settings,
    readFileSync(settings, 'utf8').replace('FEATURE_RECOMMENDATIONS=false', 'FEATURE_RECOMMENDATIONS=true'),
  );
  rmSync(path.join(repo, 'beta-cluster', 'storefront.yaml'));
  git('add', '-A');
  git(
    '-c',
    'user.email=demo@example.com',
    '-c',
    'user.name=Demo',
    'commit',
    '-q',
    '-m',
    'Two replicas, recommendations on, drop the storefront',
  );
  console.log(cli(['detect', '--base', 'HEAD~1', '--head', 'HEAD']));
  console.log(cli(['diff', '--env', 'beta']));

  say('Merge: apply again (updates, and the prune of the removed storefront)');
  console.log(cli(['apply', '--env', 'beta']));

  say('Someone edits the cluster by hand: kubectl scale deployment shop --replicas=5');
  kubectl('scale', 'deployment', 'shop', '-n', 'shop-beta', '--replicas=5');

  say('Nightly drift check: the diff finds it and names who changed it');
  console.log(cli(['diff', '--env', 'beta', '--exit-code'], true));

  say('Re-sync: apply brings the cluster back to Git');
  console.log(cli(['apply', '--env', 'beta']));
  console.log(cli(['diff', '--env', 'beta', '--exit-code']));
  say(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  console.log('\nStopping the control plane');
  await cluster.stop();
  rmSync(repo, { recursive: true, force: true });
}
