// The read-only estimate against the server's dry-run on the real-repository fixtures
// (test/fixtures/real-repos/): the same plan made both ways (`--plan-mode read-only` and `server`)
// right after an apply, after a change (an image, a dropped env var, a quantity, a regenerated
// ConfigMap), and before the first apply of objects kubectl applied client-side (adoption).
// Asserted: the same action for every object, and for updates the same changed fields; the line-
// for-line agreement of the diffs is measured and printed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { kubectl, slipway, sharedCluster, stopSharedCluster, TestRepo, unique } from './harness.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/real-repos/', import.meta.url));
let cluster: Cluster;
const repos: TestRepo[] = [];

before(async () => {
  cluster = await sharedCluster();
});

after(async () => {
  for (const repo of repos) repo.remove();
  await stopSharedCluster();
});

/** A fixture's files with its namespaces renamed, so nothing collides with another test's. */
function repoFrom(fixture: string, rename: Record<string, string>): TestRepo {
  const root = path.join(FIXTURES, fixture);
  const files: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else {
        let text = readFileSync(full, 'utf8');
        for (const [from, to] of Object.entries(rename)) text = text.replaceAll(from, to);
        files[path.relative(root, full)] = text;
      }
    }
  };
  walk(root);
  const repo = new TestRepo(files);
  repos.push(repo);
  return repo;
}

interface Row {
  kind: string;
  namespace?: string;
  name: string;
  action: string;
  fidelity?: string;
  diff: string;
  changes?: { field: string }[];
}

async function planned(repo: TestRepo, env: string, mode: string): Promise<Row[]> {
  const r = await slipway(cluster, repo, ['diff', '--env', env, '--format', 'json', '--plan-mode', mode]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { objects: Row[] }).objects;
}

const tally = {
  compared: 0,
  rows: 0,
  equalActions: 0,
  updates: 0,
  equalFields: 0,
  equalDiffs: 0,
  estimated: 0,
};
const differing: string[] = [];
const changedLines = (diff: string): string =>
  diff
    .split('\n')
    .filter((line) => /^[-+](?![-+]{2} )/.test(line))
    .join('\n');

/** Plans `env` both ways and compares them row by row. */
async function compare(repo: TestRepo, env: string, when: string): Promise<void> {
  const estimate = await planned(repo, env, 'read-only');
  const server = await planned(repo, env, 'server');
  const id = (r: Row): string => `${r.kind} ${r.namespace ?? ''}/${r.name}`;
  assert.deepEqual(estimate.map(id).sort(), server.map(id).sort(), `${env} ${when}: the same objects`);
  for (const row of estimate) {
    const twin = server.find((r) => id(r) === id(row));
    assert.ok(twin);
    tally.rows++;
    if (['create', 'update', 'unchanged'].includes(row.action)) {
      tally.compared++;
      if (row.fidelity === 'read-only-estimate') tally.estimated++;
    }
    assert.equal(row.action, twin.action, `${env} ${when}: ${id(row)}`);
    tally.equalActions++;
    if (changedLines(row.diff) === changedLines(twin.diff)) tally.equalDiffs++;
    else {
      const theirs = new Set(changedLines(twin.diff).split('\n'));
      const mine = changedLines(row.diff).split('\n');
      differing.push(
        `${env} ${when}: ${row.action} ${id(row)} (estimate only: ${mine.filter((l) => !theirs.has(l)).join(' | ')})`,
      );
    }
    if (row.action !== 'update') continue;
    tally.updates++;
    const fields = (r: Row): string[] => [...new Set((r.changes ?? []).map((c) => c.field))].sort();
    assert.deepEqual(fields(row), fields(twin), `${env} ${when}: changed fields of ${id(row)}`);
    tally.equalFields++;
  }
}

describe('read-only estimate vs server dry-run: real-repository fixtures, quantities', () => {
  test('a kustomize repository: after the apply, after a change', async () => {
    const staging = unique('ro-shop-staging');
    const prod = unique('ro-shop-prod');
    const repo = repoFrom('shop', { 'shop-staging': staging, 'shop-prod': prod });
    for (const env of ['staging', 'prod']) {
      const applied = await slipway(cluster, repo, ['apply', '--env', env]);
      assert.equal(applied.code, 0, applied.stderr);
      await compare(repo, env, 'after the apply');
    }
    const base = path.join(repo.dir, 'apps/shop/base');
    const deployment = readFileSync(path.join(base, 'deployment.yaml'), 'utf8');
    const kustomization = readFileSync(path.join(base, 'kustomization.yaml'), 'utf8');
    repo.commit(
      {
        'apps/shop/base/deployment.yaml': deployment
          .replace('shop:1.0.0', 'shop:1.1.0')
          .replace('          env:\n            - name: CHECKOUT_TIMEOUT\n              value: "030"\n', '')
          .replace('cpu: 100m', 'cpu: 1000m'),
        'apps/shop/base/kustomization.yaml': kustomization.replace('LOG_LEVEL=info', 'LOG_LEVEL=debug'),
      },
      'a change',
    );
    for (const env of ['staging', 'prod']) await compare(repo, env, 'after a change');
  });

  test('objects kubectl applied client-side, before Slipway adopts them', async () => {
    const namespace = unique('ro-legacy');
    const repo = repoFrom('legacy', {
      'name: legacy': `name: ${namespace}`,
      'namespace: legacy': `namespace: ${namespace}`,
    });
    kubectl(cluster, ['apply', '-n', namespace, '-f', path.join(repo.dir, 'deploy')]);
    await compare(repo, 'legacy', 'before adoption');
    const billing = readFileSync(path.join(repo.dir, 'deploy/billing.yaml'), 'utf8');
    repo.commit(
      {
        'deploy/billing.yaml': billing.replace(
          '            - name: DRY_RUN\n              value: "no"\n',
          '',
        ),
      },
      'drop an env var',
    );
    await compare(repo, 'legacy', 'before adoption, after a change');
  });

  test("resource quantities: the server's canonical spelling, on create and on update", async () => {
    const namespace = unique('ro-quantity');
    const spellings = [
      '0.25',
      '1000m',
      '2000',
      '1500',
      '1536Mi',
      '0.5Gi',
      '1e3',
      '1.5',
      '0.1m',
      '2Ki',
      '1023Ki',
      '12e6',
      '0.0001',
      '3',
    ];
    const quota = (values: readonly string[]): string =>
      [
        'apiVersion: v1',
        'kind: ResourceQuota',
        'metadata:',
        '  name: quota',
        'spec:',
        '  hard:',
        ...values.map((v, i) => `    requests.example.com/q${i}: "${v}"`),
        '',
      ].join('\n');
    const repo = new TestRepo({
      'slipway.yaml': `environments:\n  q:\n    path: q\n    namespace: ${namespace}\n    wait: false\n`,
      'q/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
      'q/quota.yaml': quota(spellings),
    });
    repos.push(repo);
    kubectl(cluster, ['create', 'namespace', namespace]);
    await compare(repo, 'q', 'quantities, create');
    const applied = await slipway(cluster, repo, ['apply', '--env', 'q']);
    assert.equal(applied.code, 0, applied.stderr);
    await compare(repo, 'q', 'quantities, applied');
    repo.commit({ 'q/quota.yaml': quota([...spellings.slice(1), '0.75']) }, 'other quantities');
    await compare(repo, 'q', 'quantities, update');
  });

  after(() => {
    console.log(
      `read-only estimate vs server dry-run (real-repo fixtures): ${tally.rows} rows compared, ` +
        `${tally.equalActions} equal actions, ${tally.updates} updates with ${tally.equalFields} equal changed-field sets, ` +
        `${tally.equalDiffs} line-for-line equal diffs; differing: ${differing.join('; ') || 'none'}`,
    );
    assert.equal(
      tally.estimated,
      tally.compared,
      'every compared row of a read-only plan is labelled an estimate',
    );
    // Nothing here needs a default or a webhook: the estimate must read exactly as the dry-run.
    assert.deepEqual(differing, []);
  });
});
