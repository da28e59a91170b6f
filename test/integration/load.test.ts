// Load: plan and apply of many objects stay within the memory target, and 20 consecutive
// re-applies write nothing. 500 objects by default; SLIPWAY_LOAD_OBJECTS=5000 for the full size.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from './harness.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const OBJECTS = Number(process.env.SLIPWAY_LOAD_OBJECTS ?? 500);
const RSS_LIMIT_MB = 300;
let cluster: Cluster;
before(async () => {
  cluster = await sharedCluster();
});
after(async () => {
  await stopSharedCluster();
});

function run(
  repo: TestRepo,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string; rssMb: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        path.join(root, 'test', 'support', 'rss-wrapper.ts'),
        path.join(root, 'dist', 'cli.js'),
        ...args,
        '--kubeconfig',
        cluster.adminKubeconfig,
      ],
      { cwd: repo.dir, env: { ...process.env, ...cluster.env }, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const rss = /slipway-max-rss-kb (\d+)/.exec(stderr);
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
          rssMb: Number(rss?.[1] ?? 0) / 1024,
        });
      },
    );
  });
}

test(
  `${OBJECTS} objects: apply, plan and 20 no-write re-applies within ${RSS_LIMIT_MB} MB`,
  { timeout: 30 * 60_000 },
  async () => {
    const env = unique('load').replace(/-/g, '');
    const namespaces = Array.from({ length: 5 }, (_, i) => `${env}-ns${i}`);
    const files: Record<string, string> = {
      'slipway.yaml': `environments:\n  ${env}:\n    path: env\n    wait: false\n    prune-budget:\n      max-objects: ${OBJECTS}\n`,
      'env/namespaces.yaml': namespaces
        .map((ns) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`)
        .join('---\n'),
    };
    const docs: string[] = [];
    for (let i = 0; i < OBJECTS; i++) {
      const ns = namespaces[i % namespaces.length] ?? '';
      docs.push(
        i % 10 === 0
          ? `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s-${i}\n  namespace: ${ns}\nstringData:\n  token: value-${i}-abcdefgh\n`
          : i % 10 === 1
            ? `apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${i}\n  namespace: ${ns}\nspec:\n  selector: {app: a${i}}\n  ports: [{port: 80, targetPort: 8080}]\n`
            : `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  namespace: ${ns}\ndata:\n  index: "${i}"\n  payload: "${'p'.repeat(200)}"\n`,
      );
    }
    for (let f = 0; f * 100 < docs.length; f++)
      files[`env/objects-${f}.yaml`] = docs.slice(f * 100, f * 100 + 100).join('---\n');
    const repo = new TestRepo(files);
    try {
      const first = await run(repo, ['apply', '--env', env]);
      assert.equal(first.code, 0, first.stderr.slice(-2000));
      assert.ok(
        first.rssMb > 0 && first.rssMb <= RSS_LIMIT_MB,
        `apply peak RSS ${first.rssMb.toFixed(0)} MB`,
      );
      const plan = await run(repo, ['diff', '--env', env, '--format', 'json']);
      assert.equal(plan.code, 0, plan.stderr.slice(-2000));
      const summary = (JSON.parse(plan.stdout) as { summary: Record<string, number> }).summary;
      assert.deepEqual(summary, {
        create: 0,
        update: 0,
        delete: 0,
        unchanged: OBJECTS + namespaces.length,
        error: 0,
        orphan: 0,
      });
      assert.ok(plan.rssMb <= RSS_LIMIT_MB, `plan peak RSS ${plan.rssMb.toFixed(0)} MB`);

      const versions = (): string =>
        namespaces
          .map((ns) =>
            kubectl(cluster, [
              'get',
              'configmaps,secrets,services',
              '-n',
              ns,
              '-l',
              `slipway.dev/environment=${env}`,
              '-o',
              'jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}',
            ]),
          )
          .join('\n');
      const before = versions();
      for (let i = 0; i < 20; i++) {
        const again = await run(repo, ['apply', '--env', env]);
        assert.equal(again.code, 0, again.stderr.slice(-2000));
        assert.match(again.stdout, /\(0 writes\)/, `re-apply ${i + 1} wrote nothing`);
      }
      assert.equal(versions(), before, 'no resourceVersion changed over 20 re-applies');
      console.log(
        `load: ${OBJECTS} objects, apply peak RSS ${first.rssMb.toFixed(0)} MB, plan peak RSS ${plan.rssMb.toFixed(0)} MB`,
      );
    } finally {
      repo.remove();
    }
  },
);
