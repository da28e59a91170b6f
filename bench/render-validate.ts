// Measures the CPU time Slipway spends loading, rendering and validating a large plain-YAML
// environment through the Workspace API. A measurement, not a test: it prints figures and asserts
// nothing.
//
//   node bench/render-validate.ts [--objects 2000] [--runs 5]
//
// The repository is generated into a temporary folder: `objects` objects of four kinds (Deployment,
// Service, ConfigMap, Secret) spread over files of ten documents each, in nested folders.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from '../src/core/ports.ts';
import { ProcessRunner } from '../src/tools/exec.ts';
import { hasErrors, Workspace } from '../src/core/workspace.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '5' },
  },
});
const OBJECTS = Number(values.objects);
const RUNS = Number(values.runs);
const PER_FILE = 10;

function objectYaml(index: number): string {
  const name = `app-${String(index).padStart(5, '0')}`;
  const labels = `    app: ${name}\n    team: team-${index % 7}`;
  switch (index % 4) {
    case 0:
      return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: bench
  labels:
${labels}
spec:
  replicas: ${(index % 3) + 1}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: main
          image: registry.example/${name}:1.${index % 10}.0
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
`;
    case 1:
      return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: bench
  labels:
${labels}
spec:
  selector:
    app: ${name}
  ports:
    - name: http
      port: 80
      targetPort: 8080
`;
    case 2:
      return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: bench
  labels:
${labels}
data:
  settings.properties: |
    feature.a=true
    feature.b=false
    index=${index}
`;
    default:
      return `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: bench
type: Opaque
data:
  password: ${Buffer.from(`password-${index}`).toString('base64')}
`;
  }
}

function generate(root: string): void {
  writeFileSync(
    path.join(root, 'slipway.yaml'),
    'environments:\n  bench:\n    path: clusters/bench\n    namespace: bench\n',
  );
  for (let first = 0; first < OBJECTS; first += PER_FILE) {
    const file = first / PER_FILE;
    const dir = path.join(root, 'clusters/bench', `group-${file % 20}`);
    mkdirSync(dir, { recursive: true });
    const docs: string[] = [];
    for (let index = first; index < Math.min(first + PER_FILE, OBJECTS); index++)
      docs.push(objectYaml(index));
    writeFileSync(path.join(dir, `objects-${String(file).padStart(4, '0')}.yaml`), docs.join('---\n'));
  }
}

const quiet: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  group: (_title, work) => work(),
};

async function once(root: string): Promise<{ cpuMs: number; wallMs: number; objects: number }> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const workspace = new Workspace(
    {
      repo: root,
      configFile: undefined,
      kubeconfig: undefined,
      context: undefined,
      concurrency: 16,
      retrySeconds: 0,
      tools: { kustomize: 'kustomize', kubectl: 'kubectl', helm: 'helm' },
    },
    new ProcessRunner(process.env),
    quiet,
  );
  const result = await workspace.renderAndValidate(workspace.environment('bench'));
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - wall;
  if (hasErrors(result.findings))
    throw new Error(`the generated repository has errors: ${JSON.stringify(result.findings.slice(0, 3))}`);
  if (result.manifests.length !== OBJECTS)
    throw new Error(`rendered ${result.manifests.length} objects, expected ${OBJECTS}`);
  return { cpuMs: (used.user + used.system) / 1000, wallMs, objects: result.manifests.length };
}

const root = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-'));
try {
  generate(root);
  const runs: { cpuMs: number; wallMs: number }[] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await once(root));
  const cpu = runs.map((r) => r.cpuMs);
  const sorted = [...cpu].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  console.log(
    `load + render + validate of ${OBJECTS} plain objects (${Math.ceil(OBJECTS / PER_FILE)} files), node ${process.version}`,
  );
  runs.forEach((r, i) =>
    console.log(
      `  run ${i + 1}: ${r.cpuMs.toFixed(0)} ms CPU, ${r.wallMs.toFixed(0)} ms wall${i === 0 ? ' (cold: includes JIT warm-up)' : ''}`,
    ),
  );
  console.log(
    `  first run ${cpu[0]?.toFixed(0)} ms CPU; median ${median.toFixed(0)} ms CPU (${((median / OBJECTS) * 1000).toFixed(0)} µs per object)`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
