// Reads from outside the repository (remote kustomize bases, Helm chart repositories): refused by
// default with the file and line, listed in the plan when an environment says `remote: allow`.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import type { RenderResult } from '../../src/core/render/render.ts';
import { Workspace } from '../../src/core/workspace.ts';
import { ProcessRunner } from '../../src/tools/exec.ts';
import { pinnedTools, RecordingLogger, scratch, type RenderToolPaths, type Scratch } from './support.ts';

let tools: RenderToolPaths;
let dir: Scratch;
let server: Server;
let base: string;
const requests: string[] = [];

before(async () => {
  tools = await pinnedTools();
  dir = scratch('slipway-remote-');
  // A chart repository on loopback: an allowed release really is fetched from it.
  const charts = path.join(dir.dir, 'charts');
  write(charts, {
    'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 0.1.0\n',
    'web/templates/cm.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  from: repository\n',
  });
  execFileSync(tools.helm, ['package', path.join(charts, 'web'), '--destination', charts], { stdio: 'pipe' });
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    try {
      response.end(readFileSync(path.join(charts, path.basename(request.url ?? ''))));
    } catch {
      response.statusCode = 404;
      response.end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  execFileSync(tools.helm, ['repo', 'index', charts, '--url', base], { stdio: 'pipe' });
});

after(() => {
  server.close();
  dir.cleanup();
});

function write(root: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
}

async function render(files: Record<string, string>): Promise<RenderResult> {
  const repo = path.join(dir.dir, `repo-${Math.random().toString(36).slice(2)}`);
  write(repo, files);
  const workspace = new Workspace(
    {
      repo,
      configFile: undefined,
      kubeconfig: undefined,
      context: undefined,
      concurrency: 4,
      retrySeconds: 0,
      tools,
    },
    new ProcessRunner(process.env),
    new RecordingLogger(),
  );
  return workspace.renderAndValidate(workspace.environment('prod'));
}

const REMOTE_KUSTOMIZATION = {
  'clusters/prod/kustomization.yaml':
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - local.yaml\n  - github.com/acme/platform//base?ref=v1.2.0\n',
  'clusters/prod/local.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n',
};

test('a remote kustomize base is refused by default, naming the kustomization file and line, before kustomize runs', async () => {
  const result = await render({
    'slipway.yaml': 'environments:\n  prod:\n    path: clusters/prod\n',
    ...REMOTE_KUSTOMIZATION,
  });
  const errors = result.findings.filter((f) => f.severity === 'error');
  assert.equal(errors.length, 1, JSON.stringify(result.findings));
  assert.deepEqual(errors.at(0)?.location, { file: 'clusters/prod/kustomization.yaml', line: 3 });
  assert.match(
    errors.at(0)?.message ?? '',
    /kustomize resources "github\.com\/acme\/platform\/\/base\?ref=v1\.2\.0" is read from outside the repository, which environment "prod" does not allow/,
  );
  assert.match(errors.at(0)?.message ?? '', /remote: allow/);
  assert.deepEqual(result.manifests, []);
});

test('a Helm chart repository is refused by default and nothing is fetched from it', async () => {
  const before = requests.length;
  const result = await render({
    'slipway.yaml': `environments:\n  prod:\n    path: clusters/prod\n    helm:\n      - releaseName: web\n        chart: web\n        repository: ${base}\n        version: 0.1.0\n`,
    'clusters/prod/.keep': '',
  });
  const error = result.findings.find((f) => f.severity === 'error');
  assert.ok(error);
  assert.equal(error.location.file, 'slipway.yaml');
  assert.match(
    error.message,
    new RegExp(`helm release web chart web 0\\.1\\.0 from "${base}" is read from outside the repository`),
  );
  assert.equal(requests.length, before, 'a refused repository must not be contacted');
});

test('with `remote: allow` the chart is fetched and the plan notes say what was read from where', async () => {
  const result = await render({
    'slipway.yaml': `environments:\n  prod:\n    path: clusters/prod\n    remote: allow\n    helm:\n      - releaseName: web\n        chart: web\n        repository: ${base}\n        version: 0.1.0\n`,
    'clusters/prod/.keep': '',
  });
  assert.deepEqual(
    result.findings.filter((f) => f.severity === 'error'),
    [],
  );
  assert.equal(result.manifests[0]?.object.metadata.name, 'web');
  assert.ok(
    result.notes.includes(
      `reads from outside the repository: helm release web chart web 0.1.0 from ${base} (slipway.yaml)`,
    ),
    JSON.stringify(result.notes),
  );
});

test('`remote` takes only allow or deny', async () => {
  await assert.rejects(
    render({
      'slipway.yaml': 'environments:\n  prod:\n    path: clusters/prod\n    remote: yes-please\n',
      'clusters/prod/.keep': '',
    }),
    /remote must be "allow" or "deny", got "yes-please"/,
  );
});
