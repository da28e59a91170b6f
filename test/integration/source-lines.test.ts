// Plan rows traced to the repository line of each change, on the real control plane through the CLI:
// a kustomize overlay's patch and `images:` lines, a Helm release's values line; and kustomize's
// origin annotations, used for the trace, never reach the cluster.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { kubectl, sharedCluster, slipway, stopSharedCluster, TestRepo, unique } from './harness.ts';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'repos');

let cluster: Cluster;
const repos: TestRepo[] = [];

before(async () => {
  cluster = await sharedCluster();
});

after(async () => {
  for (const repo of repos) repo.remove();
  await stopSharedCluster();
});

/** A fixture as a Git repository, its environment and namespace renamed so tests never collide. */
function fixtureRepo(
  name: string,
  rename: Record<string, string>,
): { repo: TestRepo; read: (file: string) => string } {
  const root = path.join(FIXTURES, name);
  const files: Record<string, string> = {};
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    let text: string;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch {
      continue; // a folder
    }
    for (const [from, to] of Object.entries(rename)) text = text.replaceAll(from, to);
    files[file.split(path.sep).join('/')] = text;
  }
  const repo = new TestRepo(files);
  repos.push(repo);
  return { repo, read: (file) => readFileSync(path.join(repo.dir, file), 'utf8') };
}

async function ok(repo: TestRepo, args: string[]): Promise<string> {
  const run = await slipway(cluster, repo, args);
  assert.equal(run.code, 0, `${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

describe('changes traced to their source line', () => {
  test('kustomize: applied without origin annotations; an update points at the patch and images lines', async () => {
    const namespace = unique('origins');
    const env = unique('orig');
    const { repo, read } = fixtureRepo('kustomize-origins', {
      'origins-staging': namespace,
      '  staging:\n': `  ${env}:\n    wait: false\n`,
    });
    kubectl(cluster, ['create', 'namespace', namespace]);
    await ok(repo, ['apply', '--env', env]);

    const live = kubectl(cluster, ['get', 'deployments,services,configmaps', '-n', namespace, '-o', 'json']);
    const items = (JSON.parse(live) as { items: { metadata: { name: string } }[] }).items;
    assert.ok(items.some((i) => i.metadata.name === 'web'));
    assert.doesNotMatch(
      live,
      /config\.kubernetes\.io\/origin|alpha\.config\.kubernetes\.io\/transformations/,
    );

    repo.commit(
      {
        'overlay/resources.yaml': read('overlay/resources.yaml').replace('replicas: 3', 'replicas: 4'),
        'overlay/kustomization.yaml': read('overlay/kustomization.yaml').replace(
          'newTag: "1.28"',
          'newTag: "1.29"',
        ),
      },
      'scale and bump',
    );
    const text = await ok(repo, ['diff', '--env', env]);
    // The row: where its first change is written; then each source of its changes.
    assert.match(text, /^update .*web \(overlay\/resources\.yaml:6\)$/m, text);
    assert.match(
      text,
      /^ {2}from overlay\/kustomization\.yaml:24: spec\.template\.spec\.containers\.1\.image$/m,
    );
    assert.match(text, /^ {2}from overlay\/resources\.yaml:6: spec\.replicas$/m);
    assert.doesNotMatch(text, /config\.kubernetes\.io/);

    const json = JSON.parse(await ok(repo, ['diff', '--env', env, '--format', 'json'])) as {
      objects: { kind: string; action: string; changes?: { field: string; source: string }[] }[];
    };
    const deployment = json.objects.find((o) => o.kind === 'Deployment');
    assert.equal(deployment?.action, 'update');
    assert.deepEqual(deployment.changes, [
      { field: 'spec.replicas', source: 'overlay/resources.yaml:6' },
      { field: 'spec.template.spec.containers.1.image', source: 'overlay/kustomization.yaml:24' },
    ]);
  });

  test('helm: a changed image tag points at its line in the values file', async () => {
    const namespace = unique('values');
    const env = unique('vals');
    const { repo, read } = fixtureRepo('helm-values', {
      'values-staging': namespace,
      '  staging:\n': `  ${env}:\n    wait: false\n`,
    });
    kubectl(cluster, ['create', 'namespace', namespace]);
    await ok(repo, ['apply', '--env', env]);
    repo.commit(
      { 'values/staging.yaml': read('values/staging.yaml').replace('2.14.1', '2.14.2') },
      'bump the tag',
    );
    const text = await ok(repo, ['diff', '--env', env]);
    assert.match(text, /^update .*shop \(values\/staging\.yaml:5\)$/m, text);
    assert.match(text, /^ {2}from values\/staging\.yaml:5: spec\.template\.spec\.containers\.0\.image$/m);
  });
});
