// Speed benchmark: Slipway's plan (diff) and apply against kubectl on the same objects, and against
// the control plane's own limit. A measurement, not a test (not part of `npm test`).
//
//   npm run build && npm run bench -- [--sizes 100,1000,5000] [--runs 3] [--max-load 1.5]
//                                      [--concurrency 16] [--kubectl-timeout 600] [--cli dist/cli.js]
//                                      [--out bench/results.json] [--sea sea/slipway-linux-x64]
//
// --max-load: before the cold-start measurement and before each size, wait (up to 5 minutes) for
// the 1-minute load average to drop to this: the machine has 2 cores and other test suites share it.
// --kubectl-timeout: a kubectl default (serial) diff running longer is stopped and reported skipped;
// it is also skipped outright for a size the previous one says would take longer.
//
// For each size N: a fresh local control plane (kube-apiserver + etcd, see test/cluster; no
// controller-manager, scheduler or kwok, so nothing but the tools and the API server competes for
// the CPU), a generated environment of N objects in a temporary git repository, and then medians
// of R runs of:
//   - `slipway diff` against an empty environment and against an applied one with 10% changed,
//     `kubectl diff --server-side` (default, and with --concurrency) on the same folder and state,
//     and the limit: the same dry-run SSA PATCH bodies sent raw at the same concurrency;
//   - `slipway apply` and `kubectl apply --server-side`: first apply (fresh namespaces each run)
//     and a no-change re-apply (resourceVersions checked), and the limit of a first apply: the same
//     bodies raw, N dry-runs then N applies;
//   - API requests per object of every command, through the counting proxy (separate runs).
// Plus peak RSS of Slipway, cold start of both entry points, and the size of dist/.
// Everything is written to bench/results.json; the load average is recorded with every sample.

import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { DEFAULT_STATE_NAMESPACE } from '../src/core/config/config.ts';
import { OWNER_LABEL } from '../src/core/constants.ts';
import { APPLYSET_PART_OF_LABEL, applySetId } from '../src/core/inventory/inventory.ts';
import { DEFAULT_CONCURRENCY } from '../src/core/settings.ts';
import { startCluster, type Cluster } from '../test/cluster/cluster.ts';
import { FaultProxy } from '../test/fakes/fault-proxy.ts';
import {
  benchObjects,
  KINDS,
  namespaceNames,
  objectPath,
  WIDGET_CRD,
  writeManifests,
  type BenchObject,
} from './support/generate.ts';
import {
  loadAverage,
  median,
  pool,
  RawApi,
  RequestTap,
  RSS_PRELOAD,
  runTimed,
  type ProcessRun,
  type RequestClass,
} from './support/measure.ts';
import { measureSea } from './support/sea.ts';

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,5000' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
    'max-load': { type: 'string', default: '1.5' },
    'kubectl-timeout': { type: 'string', default: '600' },
    out: { type: 'string', default: 'bench/results.json' },
    // Another build to measure (e.g. the previous one: `git archive HEAD dist | tar -x -C /tmp/base`).
    cli: { type: 'string', default: 'dist/cli.js' },
    // A single-file executable (npm run sea) to measure as well: size and cold start.
    sea: { type: 'string' },
  },
});
const SIZES = values.sizes.split(',').map((s) => Number(s.trim()));
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);
const MAX_LOAD = Number(values['max-load']);
const KUBECTL_TIMEOUT_MS = Number(values['kubectl-timeout']) * 1000;
const OUT = path.resolve(root, values.out);
const DIST_CLI = path.resolve(root, values.cli);
const DIST = path.dirname(DIST_CLI);
const DIST_ACTION = path.join(DIST, 'index.js');
const NODE = process.execPath;

if (SIZES.some((n) => !Number.isInteger(n) || n < 8) || !(RUNS >= 1) || !(CONCURRENCY >= 1))
  throw new Error('usage: node bench/run.ts [--sizes 100,1000,5000] [--runs 3] [--concurrency 16]');

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

// --- results -----------------------------------------------------------------------------------

interface Sample {
  readonly ms: number;
  readonly load: [number, number, number];
  readonly rssMb?: number;
}

interface Measurement {
  samples: Sample[];
  medianMs: number;
  skipped?: string;
}

interface RequestCount {
  readonly counts: Record<RequestClass | 'total', number>;
  readonly perObject: number;
  /** Requests the FaultProxy itself counted (a cross-check of the tap). */
  readonly proxyReceived: number;
  /** Non-dry-run writes (PATCH/POST/PUT/DELETE) to the environment's own namespaces. */
  readonly objectWrites: number;
  readonly uptime: string;
}

interface SizeResult {
  size: number;
  namespaces: number;
  uptime: string[];
  measurements: Record<string, Measurement>;
  requests: Record<string, RequestCount>;
  checks: Record<string, unknown>;
  ratios: Record<string, number>;
  peakRssMb: Record<string, number>;
}

let kubectlVersion: string | undefined;
const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim();

function record(
  target: Measurement | undefined,
  run: ProcessRun | number,
  load = loadAverage(),
): Measurement {
  const m = target ?? { samples: [], medianMs: NaN };
  const sample: Sample =
    typeof run === 'number'
      ? { ms: Math.round(run), load }
      : {
          ms: Math.round(run.ms),
          load,
          ...(run.maxRssMb === undefined ? {} : { rssMb: Math.round(run.maxRssMb) }),
        };
  m.samples.push(sample);
  m.medianMs = Math.round(median(m.samples.map((s) => s.ms)));
  return m;
}

async function waitForLowLoad(label: string): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const [one] = loadAverage();
    if (one <= MAX_LOAD) break;
    log(`${label}: 1-minute load ${one} > ${MAX_LOAD}; waiting 30 s (attempt ${attempt + 1}/10)`);
    await sleep(30_000);
  }
  return uptime();
}

// --- cold start and dist/ ----------------------------------------------------------------------

async function coldStart(): Promise<Record<string, Measurement>> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(GITHUB_|RUNNER_|INPUT_|ACTIONS_|CI$)/.test(key)),
  );
  const result: Record<string, Measurement> = {};
  const cases: [string, string[]][] = [
    ['node -e 0 (baseline)', ['-e', '0']],
    ['node dist/cli.js --help', [DIST_CLI, '--help']],
    ['node dist/index.js (no GitHub env)', [DIST_ACTION]],
  ];
  for (let i = 0; i < 10; i++) {
    for (const [name, args] of cases) {
      const run = await runTimed(NODE, args, { env: clean, cwd: os.tmpdir() });
      if (name.includes('--help') && run.code !== 0) throw new Error(`${name} exited ${run.code}`);
      result[name] = record(result[name], run);
    }
  }
  return result;
}

function distSize(): { totalBytes: number; files: { path: string; bytes: number }[] } {
  const files: { path: string; bytes: number }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push({ path: path.relative(root, full), bytes: statSync(full).size });
    }
  };
  walk(DIST);
  files.sort((a, b) => b.bytes - a.bytes);
  return { totalBytes: files.reduce((sum, f) => sum + f.bytes, 0), files };
}

// --- one size ----------------------------------------------------------------------------------

class Bench {
  readonly size: number;
  readonly cluster: Cluster;
  readonly api: RawApi;
  readonly dir: string;
  readonly repo: string;
  readonly cacheDir: string;
  readonly result: SizeResult;
  readonly proxy: FaultProxy;
  readonly tap: RequestTap;
  readonly proxyKubeconfig: string;
  #rssFile: string;

  private constructor(size: number, cluster: Cluster, proxy: FaultProxy, tap: RequestTap, upt: string) {
    this.size = size;
    this.cluster = cluster;
    this.api = new RawApi(cluster.adminKubeconfig, CONCURRENCY);
    this.dir = mkdtempSync(path.join(os.tmpdir(), `slipway-bench-${size}-`));
    this.repo = path.join(this.dir, 'repo');
    this.cacheDir = path.join(this.dir, 'kube-cache');
    this.#rssFile = path.join(this.dir, 'rss');
    this.proxy = proxy;
    this.tap = tap;
    // The proxy's kubeconfig, pointed at the tap in front of it (tap → FaultProxy → API server).
    this.proxyKubeconfig = proxy.writeKubeconfig(path.join(this.dir, 'proxy.kubeconfig'));
    writeFileSync(
      this.proxyKubeconfig,
      readFileSync(this.proxyKubeconfig, 'utf8').replace(proxy.url, tap.url),
    );
    this.result = {
      size,
      namespaces: namespaceNames('x', size).length,
      uptime: [upt],
      measurements: {},
      requests: {},
      checks: {},
      ratios: {},
      peakRssMb: {},
    };
  }

  static async start(size: number, upt: string): Promise<Bench> {
    const cluster = await startCluster({
      controllerManager: false,
      scheduler: false,
      kwok: false,
      log: (line) => log(line),
    });
    const proxy = await new FaultProxy(cluster.adminKubeconfig).listen();
    const tap = await new RequestTap(proxy.url).listen();
    return new Bench(size, cluster, proxy, tap, upt);
  }

  async stop(): Promise<void> {
    this.api.close();
    await this.tap.close();
    await this.proxy.close();
    await this.cluster.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // --- setup (never measured) ---

  objects(set: string, changed = false): BenchObject[] {
    return benchObjects(this.size, namespaceNames(set, this.size), changed);
  }

  async setup(sets: readonly string[]): Promise<void> {
    await this.api.ok('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', WIDGET_CRD);
    for (let i = 0; ; i++) {
      const crd = (await this.api.ok(
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${WIDGET_CRD.metadata.name}`,
      )) as { status?: { conditions?: { type: string; status: string }[] } };
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 100) throw new Error('the Widget CRD did not become Established');
      await sleep(100);
    }
    for (const set of sets)
      for (const name of namespaceNames(set, this.size))
        await this.api.ok('POST', '/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name },
        });

    // The git repository: one Slipway environment per set, kubectl's folders beside them.
    const environments = sets.filter((s) => s.startsWith('s') || s === 'diff');
    const config = [
      '# Generated by bench/run.ts. wait: false: health waits would dominate and measure the controllers.',
      'environments:',
      ...environments.flatMap((set) => [`  ${set}:`, `    path: envs/${set}`, '    wait: false']),
      '',
    ].join('\n');
    mkdirSync(this.repo, { recursive: true });
    writeFileSync(path.join(this.repo, 'slipway.yaml'), config);
    for (const set of sets.filter((s) => !s.startsWith('l'))) {
      const folder = set.startsWith('k') ? path.join('kubectl', set) : path.join('envs', set);
      writeManifests(path.join(this.repo, folder), this.objects(set));
    }
    this.git('init', '-q', '-b', 'main');
    this.git('config', 'user.email', 'bench@example.com');
    this.git('config', 'user.name', 'Bench');
    this.git('add', '-A');
    this.git('commit', '-q', '-m', 'environments');

    // kubectl caches discovery on disk: fill the cache (for both the direct and the proxied
    // server) so no kubectl run below pays for it, as on a laptop that used the cluster before.
    // (Asynchronously: the tap and the proxy run in this process.)
    for (const kubeconfig of [this.cluster.adminKubeconfig, this.proxyKubeconfig])
      await execFileAsync(this.cluster.kubectl, [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        this.cacheDir,
        'api-resources',
      ]);
    this.tap.reset();
    kubectlVersion = execFileSync(this.cluster.kubectl, ['version', '--client', '-o', 'json'], {
      encoding: 'utf8',
    }).match(/"gitVersion":\s*"([^"]+)"/)?.[1];
  }

  git(...args: string[]): void {
    execFileSync('git', args, { cwd: this.repo, stdio: 'ignore' });
  }

  /** Deletes every generated object of a set (deletecollection per kind and namespace). */
  async clear(set: string): Promise<void> {
    for (const namespace of namespaceNames(set, this.size))
      for (const kind of KINDS)
        await this.api.ok('DELETE', `${kind.prefix}/namespaces/${namespace}/${kind.plural}`);
  }

  /** resourceVersion of every generated object of a set, by path. */
  async resourceVersions(set: string): Promise<Map<string, string>> {
    const versions = new Map<string, string>();
    for (const namespace of namespaceNames(set, this.size)) {
      for (const kind of KINDS) {
        const list = (await this.api.ok('GET', `${kind.prefix}/namespaces/${namespace}/${kind.plural}`)) as {
          items: { metadata: { name: string; resourceVersion: string } }[];
        };
        for (const item of list.items)
          versions.set(`${namespace}/${kind.plural}/${item.metadata.name}`, item.metadata.resourceVersion);
      }
    }
    return versions;
  }

  // --- the tools ---

  async slipway(args: string[], proxied = false, stdout?: string): Promise<ProcessRun> {
    const kubeconfig = proxied ? this.proxyKubeconfig : this.cluster.adminKubeconfig;
    const run = await runTimed(
      NODE,
      [
        '--import',
        RSS_PRELOAD,
        DIST_CLI,
        ...args,
        '--repo',
        this.repo,
        '--kubeconfig',
        kubeconfig,
        '--concurrency',
        String(CONCURRENCY),
      ],
      {
        cwd: this.repo,
        env: { ...process.env, SLIPWAY_LOCK_WAIT_SECONDS: '5' },
        stdout: stdout ?? path.join(this.dir, 'slipway.out'),
        stderr: path.join(this.dir, 'slipway.err'),
        rssFile: this.#rssFile,
      },
    );
    if (run.code !== 0) {
      throw new Error(
        `slipway ${args.join(' ')} exited ${run.code}: ${readFileSync(path.join(this.dir, 'slipway.err'), 'utf8').slice(-2000)}`,
      );
    }
    return run;
  }

  slipwayDiff(env: string, proxied = false): Promise<ProcessRun> {
    return this.slipway(
      ['diff', '--env', env, '--format', 'json'],
      proxied,
      path.join(this.dir, 'diff.json'),
    );
  }

  slipwayApply(env: string, proxied = false): Promise<ProcessRun> {
    return this.slipway(['apply', '--env', env], proxied, path.join(this.dir, 'apply.out'));
  }

  async kubectl(args: string[], proxied = false, timeoutMs?: number): Promise<ProcessRun> {
    const kubeconfig = proxied ? this.proxyKubeconfig : this.cluster.adminKubeconfig;
    const err = path.join(this.dir, 'kubectl.err');
    const run = await runTimed(
      this.cluster.kubectl,
      ['--kubeconfig', kubeconfig, '--cache-dir', this.cacheDir, ...args],
      {
        cwd: this.repo,
        env: { ...process.env, ...this.cluster.env, KUBECONFIG: kubeconfig },
        stdout: path.join(this.dir, 'kubectl.out'),
        stderr: err,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      },
    );
    // kubectl diff exits 1 when there are differences: that is its success.
    const diff = args[0] === 'diff';
    if (!run.timedOut && run.code !== 0 && !(diff && run.code === 1))
      throw new Error(
        `kubectl ${args.join(' ')} exited ${run.code}: ${readFileSync(err, 'utf8').slice(-2000)}`,
      );
    return run;
  }

  kubectlDiffArgs(folder: string, concurrency?: number): string[] {
    return [
      'diff',
      '--server-side',
      '--force-conflicts',
      '--field-manager=kubectl-bench',
      ...(concurrency === undefined ? [] : [`--concurrency=${concurrency}`]),
      '-R',
      '-f',
      folder,
    ];
  }

  kubectlApplyArgs(folder: string): string[] {
    return ['apply', '--server-side', '--field-manager=kubectl-bench', '-R', '-f', folder];
  }

  /**
   * The control plane's ceiling: the same SSA bodies Slipway sends, raw, at the same concurrency;
   * dry-run (a plan), or with `apply` a dry-run of all then a real apply of all (a first apply).
   */
  async limit(env: string, objects: readonly BenchObject[], apply = false): Promise<number> {
    const started = performance.now();
    await this.patchAll(env, objects, true);
    if (apply) await this.patchAll(env, objects, false);
    return performance.now() - started;
  }

  async patchAll(env: string, objects: readonly BenchObject[], dryRun: boolean): Promise<void> {
    const bodies = objects.map((object) => ({
      path: `${objectPath(object)}?fieldManager=slipway&fieldValidation=Strict&force=true${dryRun ? '&dryRun=All' : ''}`,
      body: JSON.stringify({
        ...object,
        metadata: {
          ...object.metadata,
          labels: {
            ...object.metadata.labels,
            [OWNER_LABEL]: env,
            [APPLYSET_PART_OF_LABEL]: applySetId(env, DEFAULT_STATE_NAMESPACE),
          },
        },
      }),
    }));
    const api = new RawApi(this.cluster.adminKubeconfig, CONCURRENCY);
    let failed = '';
    await pool(bodies, CONCURRENCY, async ({ path: p, body }) => {
      const response = await api.request('PATCH', p, body, 'application/apply-patch+yaml', true);
      if (response.status !== 200 && response.status !== 201) failed = `${p}: HTTP ${response.status}`;
    });
    api.close();
    if (failed) throw new Error(`limit: ${failed}`);
  }

  /** Runs `work` through the counting proxy and records what it sent. */
  async count(
    name: string,
    namespaces: readonly string[],
    work: () => Promise<unknown>,
  ): Promise<RequestCount> {
    this.tap.reset();
    const before = this.proxy.received;
    await work();
    const counts = this.tap.counts();
    const inSet = new Set(namespaces);
    const objectWrites = this.tap.requests.filter(
      (r) =>
        ['patch', 'create', 'update', 'delete'].includes(r.kind) && r.namespace && inSet.has(r.namespace),
    ).length;
    const result: RequestCount = {
      counts,
      perObject: Number((counts.total / this.size).toFixed(3)),
      proxyReceived: this.proxy.received - before,
      objectWrites,
      uptime: uptime(),
    };
    this.result.requests[name] = result;
    log(
      `  requests ${name}: ${counts.total} (${result.perObject}/object; discovery ${counts.discovery}, list ${counts.list}, get ${counts.get}, dry-run ${counts['patch-dry-run']}, patch ${counts.patch}, writes to objects ${objectWrites})`,
    );
    return result;
  }

  measure(name: string, run: ProcessRun | number): void {
    const m = record(this.result.measurements[name], run);
    this.result.measurements[name] = m;
    const last = m.samples.at(-1);
    log(
      `  ${name}: ${last?.ms} ms${last?.rssMb === undefined ? '' : `, peak RSS ${last.rssMb} MB`} (load ${last?.load[0]})`,
    );
  }

  skip(name: string, why: string): void {
    this.result.measurements[name] = { samples: [], medianMs: NaN, skipped: why };
    log(`  ${name}: skipped: ${why}`);
  }

  diffSummary(): { create: number; update: number; unchanged: number; error: number } {
    const plan = JSON.parse(readFileSync(path.join(this.dir, 'diff.json'), 'utf8')) as {
      summary: { create: number; update: number; unchanged: number; error: number };
    };
    return plan.summary;
  }

  kubectlDiffCount(): number {
    return readFileSync(path.join(this.dir, 'kubectl.out'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('diff -u -N ')).length;
  }

  applyWrites(): number {
    const first = readFileSync(path.join(this.dir, 'apply.out'), 'utf8').split('\n')[0] ?? '';
    return Number(/\((\d+) writes\)/.exec(first)?.[1] ?? NaN);
  }
}

// --- the phases --------------------------------------------------------------------------------

async function diffPhase(
  b: Bench,
  state: 'empty' | 'changed',
  kubectlDefaultTooSlow: string | undefined,
): Promise<void> {
  const folder = path.join(b.repo, 'envs', 'diff');
  const namespaces = namespaceNames('diff', b.size);
  const objects = b.objects('diff', state === 'changed');
  const expected = state === 'empty' ? { create: b.size } : { update: b.size / 10 };
  log(`diff against ${state === 'empty' ? 'an empty environment' : 'an applied one with 10% changed'}`);

  // Counting runs first (they also warm the API server), then the timed runs.
  await b.count(`slipway diff (${state})`, namespaces, () => b.slipwayDiff('diff', true));
  const summary = b.diffSummary();
  b.result.checks[`slipway diff (${state}) summary`] = summary;
  const wanted = state === 'empty' ? summary.create === b.size : summary.update === Math.round(b.size / 10);
  if (!wanted || summary.error > 0)
    throw new Error(
      `slipway diff (${state}): ${JSON.stringify(summary)}, expected ${JSON.stringify(expected)}`,
    );
  await b.count(`kubectl diff (${state})`, namespaces, () =>
    b.kubectl(b.kubectlDiffArgs(folder, CONCURRENCY), true),
  );
  const differing = b.kubectlDiffCount();
  b.result.checks[`kubectl diff (${state}) objects differing`] = differing;
  if (differing !== (state === 'empty' ? b.size : Math.round(b.size / 10)))
    throw new Error(`kubectl diff (${state}) reported ${differing} objects differing`);

  let kubectlDefault = kubectlDefaultTooSlow;
  for (let run = 1; run <= RUNS; run++) {
    log(` run ${run}/${RUNS}`);
    b.measure(`slipway diff (${state})`, await b.slipwayDiff('diff'));
    if (kubectlDefault) {
      if (run === 1) b.skip(`kubectl diff (${state})`, kubectlDefault);
    } else {
      const k = await b.kubectl(b.kubectlDiffArgs(folder), false, KUBECTL_TIMEOUT_MS);
      if (k.timedOut) {
        kubectlDefault = `ran past ${KUBECTL_TIMEOUT_MS / 1000} s`;
        b.skip(`kubectl diff (${state})`, kubectlDefault);
      } else b.measure(`kubectl diff (${state})`, k);
    }
    b.measure(
      `kubectl diff --concurrency=${CONCURRENCY} (${state})`,
      await b.kubectl(b.kubectlDiffArgs(folder, CONCURRENCY)),
    );
    b.measure(`limit: raw dry-run PATCH (${state})`, await b.limit('diff', objects));
  }
}

async function applyPhase(b: Bench): Promise<void> {
  log('apply: first apply in fresh namespaces, then a no-change re-apply');
  // Counting runs (sets "scount" for Slipway and "kcount" for kubectl), with resourceVersions.
  const sNamespaces = namespaceNames('scount', b.size);
  const kNamespaces = namespaceNames('kcount', b.size);
  await b.count('slipway apply (first)', sNamespaces, () => b.slipwayApply('scount', true));
  const before = await b.resourceVersions('scount');
  await b.count('slipway apply (re-apply)', sNamespaces, () => b.slipwayApply('scount', true));
  const after = await b.resourceVersions('scount');
  const bumped = [...before].filter(([key, version]) => after.get(key) !== version).length;
  b.result.checks['slipway re-apply: objects whose resourceVersion changed'] = bumped;
  b.result.checks['slipway re-apply: writes reported'] = b.applyWrites();
  if (before.size !== b.size) throw new Error(`slipway apply created ${before.size} of ${b.size} objects`);

  const kFolder = path.join(b.repo, 'kubectl', 'kcount');
  await b.count('kubectl apply (first)', kNamespaces, () => b.kubectl(b.kubectlApplyArgs(kFolder), true));
  const kBefore = await b.resourceVersions('kcount');
  await b.count('kubectl apply (re-apply)', kNamespaces, () => b.kubectl(b.kubectlApplyArgs(kFolder), true));
  const kAfter = await b.resourceVersions('kcount');
  b.result.checks['kubectl re-apply: objects whose resourceVersion changed'] = [...kBefore].filter(
    ([key, version]) => kAfter.get(key) !== version,
  ).length;
  await b.clear('scount');
  await b.clear('kcount');

  for (let run = 1; run <= RUNS; run++) {
    log(` run ${run}/${RUNS}`);
    b.measure('slipway apply (first)', await b.slipwayApply(`s${run}`));
    b.measure('slipway apply (re-apply)', await b.slipwayApply(`s${run}`));
    const folder = path.join(b.repo, 'kubectl', `k${run}`);
    b.measure('kubectl apply (first)', await b.kubectl(b.kubectlApplyArgs(folder)));
    b.measure('kubectl apply (re-apply)', await b.kubectl(b.kubectlApplyArgs(folder)));
    b.measure(
      'limit: raw dry-run + apply PATCH (first)',
      await b.limit(`l${run}`, b.objects(`l${run}`), true),
    );
    // Keep the cluster's size the same for every run.
    await b.clear(`s${run}`);
    await b.clear(`k${run}`);
    await b.clear(`l${run}`);
  }
}

function ratios(b: Bench): void {
  const m = (name: string): number => b.result.measurements[name]?.medianMs ?? NaN;
  const r = (a: number, c: number): number => Number((a / c).toFixed(2));
  for (const state of ['empty', 'changed']) {
    const s = m(`slipway diff (${state})`);
    b.result.ratios[`kubectl diff / slipway diff (${state})`] = r(m(`kubectl diff (${state})`), s);
    b.result.ratios[`kubectl diff --concurrency=${CONCURRENCY} / slipway diff (${state})`] = r(
      m(`kubectl diff --concurrency=${CONCURRENCY} (${state})`),
      s,
    );
    b.result.ratios[`slipway diff / limit (${state})`] = r(s, m(`limit: raw dry-run PATCH (${state})`));
  }
  for (const kind of ['first', 're-apply'])
    b.result.ratios[`kubectl apply / slipway apply (${kind})`] = r(
      m(`kubectl apply (${kind})`),
      m(`slipway apply (${kind})`),
    );
  b.result.ratios['slipway apply / limit (first)'] = r(
    m('slipway apply (first)'),
    m('limit: raw dry-run + apply PATCH (first)'),
  );
  b.result.ratios['kubectl apply / limit (first)'] = r(
    m('kubectl apply (first)'),
    m('limit: raw dry-run + apply PATCH (first)'),
  );
  for (const [name, measurement] of Object.entries(b.result.measurements)) {
    const peak = Math.max(...measurement.samples.map((s) => s.rssMb ?? 0));
    if (peak > 0) b.result.peakRssMb[name] = peak;
  }
}

async function runSize(size: number, kubectlDefaultTooSlow: string | undefined): Promise<SizeResult> {
  const upt = await waitForLowLoad(`N=${size}`);
  log(`N=${size}: ${upt}`);
  const b = await Bench.start(size, upt);
  try {
    const sets = [
      'diff',
      'scount',
      'kcount',
      ...Array.from({ length: RUNS }, (_, i) => `s${i + 1}`),
      ...Array.from({ length: RUNS }, (_, i) => `k${i + 1}`),
      ...Array.from({ length: RUNS }, (_, i) => `l${i + 1}`),
    ];
    await b.setup(sets);
    await diffPhase(b, 'empty', kubectlDefaultTooSlow);
    // The applied state: Slipway applies the environment, then 10% of it changes in Git.
    await b.slipwayApply('diff');
    writeManifests(path.join(b.repo, 'envs', 'diff'), b.objects('diff', true));
    b.git('commit', '-q', '-am', 'change 10%');
    b.result.uptime.push(uptime());
    await diffPhase(b, 'changed', kubectlDefaultTooSlow);
    b.result.uptime.push(uptime());
    await applyPhase(b);
    b.result.uptime.push(uptime());
    ratios(b);
    return b.result;
  } finally {
    await b.stop();
  }
}

// --- report ------------------------------------------------------------------------------------

interface Target {
  readonly name: string;
  readonly target: string;
  readonly value: string;
  readonly met: boolean | undefined;
}

function targets(
  sizes: readonly SizeResult[],
  cold: Record<string, Measurement>,
  dist: { totalBytes: number },
): Target[] {
  const at = (n: number): SizeResult | undefined => sizes.find((s) => s.size === n);
  const out: Target[] = [];
  const add = (
    name: string,
    target: string,
    value: number | undefined,
    ok: (v: number) => boolean,
    unit = '',
  ): void => {
    const known = value !== undefined && Number.isFinite(value);
    out.push({
      name,
      target,
      value: known ? `${value}${unit}` : 'not measured',
      met: known ? ok(value) : undefined,
    });
  };
  const k = at(1000);
  for (const state of ['empty', 'changed']) {
    add(
      `diff 1,000 (${state}): kubectl diff / slipway`,
      '>= 5',
      k?.ratios[`kubectl diff / slipway diff (${state})`],
      (v) => v >= 5,
    );
    add(
      `diff 1,000 (${state}): kubectl diff --concurrency=${CONCURRENCY} / slipway`,
      '> 1',
      k?.ratios[`kubectl diff --concurrency=${CONCURRENCY} / slipway diff (${state})`],
      (v) => v > 1,
    );
    add(
      `diff 1,000 (${state}): slipway / limit`,
      '<= 2',
      k?.ratios[`slipway diff / limit (${state})`],
      (v) => v <= 2,
    );
  }
  add(
    'apply 1,000 (first): kubectl / slipway',
    '>= 3',
    k?.ratios['kubectl apply / slipway apply (first)'],
    (v) => v >= 3,
  );
  add(
    'apply 1,000 (re-apply): kubectl / slipway',
    '>= 3',
    k?.ratios['kubectl apply / slipway apply (re-apply)'],
    (v) => v >= 3,
  );
  for (const s of sizes) {
    const worst = Math.max(
      s.requests['slipway diff (empty)']?.perObject ?? NaN,
      s.requests['slipway diff (changed)']?.perObject ?? NaN,
    );
    add(`diff ${s.size}: API requests per object`, '<= 1.1', worst, (v) => v <= 1.1);
    const writes = s.requests['slipway apply (re-apply)']?.objectWrites;
    const bumped = s.checks['slipway re-apply: objects whose resourceVersion changed'] as number | undefined;
    add(
      `re-apply ${s.size}: writes to unchanged objects (resourceVersions changed: ${bumped ?? '?'})`,
      '0',
      writes === undefined || bumped === undefined ? undefined : writes + bumped,
      (v) => v === 0,
    );
  }
  const big = at(5000);
  add(
    'peak RSS at 5,000',
    '<= 300 MB',
    big ? Math.max(...Object.values(big.peakRssMb)) : undefined,
    (v) => v <= 300,
    ' MB',
  );
  for (const name of ['node dist/cli.js --help', 'node dist/index.js (no GitHub env)'])
    add(`cold start: ${name}`, '<= 300 ms', cold[name]?.medianMs, (v) => v <= 300, ' ms');
  add('dist/ total size', '<= 5 MB', Number((dist.totalBytes / 1e6).toFixed(2)), (v) => v <= 5, ' MB');
  return out;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

function report(
  sizes: readonly SizeResult[],
  cold: Record<string, Measurement>,
  dist: { totalBytes: number; files: { path: string; bytes: number }[] },
  goals: readonly Target[],
): string {
  const ms = (s: SizeResult, name: string): string => {
    const m = s.measurements[name];
    if (!m) return '-';
    if (m.skipped) return 'skipped';
    return `${m.medianMs}`;
  };
  const lines: string[] = [];
  lines.push(
    `Slipway vs kubectl (medians of ${RUNS} runs, ms; concurrency ${CONCURRENCY}; wait: false, so no health waits)`,
  );
  const header = ['', ...sizes.map((s) => `N=${s.size}`)];
  const row = (label: string, f: (s: SizeResult) => string): string[] => [label, ...sizes.map(f)];
  const c = CONCURRENCY;
  const rows: string[][] = [header];
  for (const state of ['empty', 'changed'] as const) {
    const title = state === 'empty' ? 'diff, empty environment' : 'diff, applied + 10% changed';
    rows.push(row(`${title}: slipway diff`, (s) => ms(s, `slipway diff (${state})`)));
    rows.push(row(`  kubectl diff --server-side`, (s) => ms(s, `kubectl diff (${state})`)));
    rows.push(
      row(`  kubectl diff --server-side --concurrency=${c}`, (s) =>
        ms(s, `kubectl diff --concurrency=${c} (${state})`),
      ),
    );
    rows.push(
      row(`  limit: raw dry-run SSA PATCH x N at ${c}`, (s) => ms(s, `limit: raw dry-run PATCH (${state})`)),
    );
    rows.push(
      row(`  ratio kubectl / slipway`, (s) =>
        String(s.ratios[`kubectl diff / slipway diff (${state})`] ?? '-'),
      ),
    );
    rows.push(
      row(`  ratio kubectl --concurrency=${c} / slipway`, (s) =>
        String(s.ratios[`kubectl diff --concurrency=${c} / slipway diff (${state})`] ?? '-'),
      ),
    );
    rows.push(
      row(`  ratio slipway / limit`, (s) => String(s.ratios[`slipway diff / limit (${state})`] ?? '-')),
    );
  }
  for (const kind of ['first', 're-apply'] as const) {
    rows.push(row(`apply (${kind}): slipway apply`, (s) => ms(s, `slipway apply (${kind})`)));
    rows.push(row(`  kubectl apply --server-side`, (s) => ms(s, `kubectl apply (${kind})`)));
    rows.push(
      row(`  ratio kubectl / slipway`, (s) =>
        String(s.ratios[`kubectl apply / slipway apply (${kind})`] ?? '-'),
      ),
    );
    if (kind === 'first') {
      rows.push(
        row(`  limit: raw dry-run x N, then apply x N at ${c}`, (s) =>
          ms(s, 'limit: raw dry-run + apply PATCH (first)'),
        ),
      );
      rows.push(
        row('  ratio slipway / limit', (s) => String(s.ratios['slipway apply / limit (first)'] ?? '-')),
      );
      rows.push(
        row('  ratio kubectl / limit', (s) => String(s.ratios['kubectl apply / limit (first)'] ?? '-')),
      );
    }
  }
  rows.push(['API requests per object', ...sizes.map(() => '')]);
  for (const name of [
    'slipway diff (empty)',
    'slipway diff (changed)',
    'kubectl diff (empty)',
    'kubectl diff (changed)',
    'slipway apply (first)',
    'slipway apply (re-apply)',
    'kubectl apply (first)',
    'kubectl apply (re-apply)',
  ])
    rows.push(row(`  ${name}`, (s) => String(s.requests[name]?.perObject ?? '-')));
  rows.push(
    row('  slipway discovery requests per run (max)', (s) =>
      String(
        Math.max(
          ...Object.entries(s.requests)
            .filter(([n]) => n.startsWith('slipway'))
            .map(([, r]) => r.counts.discovery),
        ),
      ),
    ),
  );
  rows.push(
    row(
      '  slipway re-apply: writes to objects / rV changed',
      (s) =>
        `${s.requests['slipway apply (re-apply)']?.objectWrites ?? '-'} / ${JSON.stringify(s.checks['slipway re-apply: objects whose resourceVersion changed'] ?? '-')}`,
    ),
  );
  rows.push(
    row(
      'peak RSS of slipway, MB (diff / apply)',
      (s) =>
        `${Math.max(s.peakRssMb['slipway diff (empty)'] ?? 0, s.peakRssMb['slipway diff (changed)'] ?? 0)} / ${Math.max(s.peakRssMb['slipway apply (first)'] ?? 0, s.peakRssMb['slipway apply (re-apply)'] ?? 0)}`,
    ),
  );
  lines.push(table(rows));
  lines.push('');
  lines.push(
    `cold start (median of 10): ${Object.entries(cold)
      .map(([name, m]) => `${name}: ${m.medianMs} ms`)
      .join('; ')}`,
  );
  lines.push(
    `dist/ total: ${(dist.totalBytes / 1e6).toFixed(2)} MB (${dist.files
      .slice(0, 4)
      .map((f) => `${f.path} ${(f.bytes / 1e6).toFixed(2)} MB`)
      .join(', ')})`,
  );
  lines.push('');
  lines.push('targets:');
  for (const t of goals)
    lines.push(
      `  ${t.met === undefined ? 'n/a ' : t.met ? 'met ' : 'MISS'}  ${t.name}: ${t.value} (target ${t.target})`,
    );
  return lines.join('\n');
}

// --- main --------------------------------------------------------------------------------------

const started = new Date();
log(
  `Slipway ${DIST_CLI}; node ${process.version}; ${os.cpus().length} CPUs; sizes ${SIZES.join(', ')}; ${RUNS} runs`,
);
const dist = distSize();
const coldUptime = await waitForLowLoad('cold start');
const cold = await coldStart();
const sea = values.sea ? await measureSea(path.resolve(values.sea), DIST_CLI, 10) : undefined;
log(
  `cold start: ${Object.entries(cold)
    .map(([n, m]) => `${n} ${m.medianMs} ms`)
    .join('; ')}`,
);
const sizes: SizeResult[] = [];
let kubectlDefaultTooSlow: string | undefined;
for (const size of SIZES) {
  const result = await runSize(size, kubectlDefaultTooSlow);
  sizes.push(result);
  // kubectl's default diff is serial: skip it for a size it would take longer than the timeout on.
  const perObject = (result.measurements['kubectl diff (empty)']?.medianMs ?? 0) / size;
  const next = SIZES[SIZES.indexOf(size) + 1];
  if (next !== undefined && perObject * next > KUBECTL_TIMEOUT_MS)
    kubectlDefaultTooSlow = `would take about ${Math.round((perObject * next) / 1000)} s (> ${KUBECTL_TIMEOUT_MS / 1000} s) at N=${next}, from N=${size}`;
}
const goals = targets(sizes, cold, dist);
// Discovery is loaded once per process, never per object.
const repeated = sizes.flatMap((s) =>
  Object.entries(s.requests)
    .filter(([name, r]) => name.startsWith('slipway') && r.counts.discovery > 4)
    .map(([name, r]) => `N=${s.size} ${name}: ${r.counts.discovery} discovery requests`),
);
const NOTES = [
  'slipway.yaml has wait: false for every environment: health waits would dominate and measure controllers, not the tools.',
  'The control plane is kube-apiserver + etcd only (no controller-manager, scheduler or kwok), on the same 2-core machine as the tools.',
  'Namespaces and the Widget CRD are created before any measurement, for both tools; each apply run uses its own fresh namespaces.',
  'kubectl: --server-side --field-manager=kubectl-bench; diff also --force-conflicts (Slipway owns the applied fields and forces by default too); its discovery cache is warm (--cache-dir filled before measuring).',
  'Services are headless (clusterIP: None): the test cluster service range is a /24.',
  'limit: the same SSA PATCH bodies Slipway sends (N dry-runs; for a first apply N dry-runs then N applies), raw over keep-alive HTTPS at the same concurrency, responses read but not parsed.',
  'Against an applied environment Slipway dry-runs only the objects whose live state shows a change (10% here), so it can beat the N-dry-run limit.',
  'Times are wall-clock from spawn to exit of the process (node dist/cli.js, kubectl), so they include start-up; requests are counted in separate runs through the counting proxy.',
];
const results = {
  generatedAt: started.toISOString(),
  durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kubectl: kubectlVersion,
  },
  options: {
    sizes: SIZES,
    runs: RUNS,
    concurrency: CONCURRENCY,
    maxLoad: MAX_LOAD,
    cli: path.relative(root, DIST_CLI),
  },
  notes: NOTES,
  discoveryRepeated: repeated,
  coldStart: { uptime: coldUptime, ...cold },
  ...(sea ? { sea } : {}),
  dist,
  sizes,
  targets: goals,
};
const text = JSON.stringify(results, null, 2);
writeFileSync(OUT, await format(text, { ...(await resolveConfig(OUT)), parser: 'json' }));
console.log(report(sizes, cold, dist, goals));
console.log(`\nnotes:\n${NOTES.map((n) => `  - ${n}`).join('\n')}`);
log(`results written to ${path.relative(root, OUT)}`);
if (repeated.length > 0) {
  console.error(`discovery repeated: ${repeated.join('; ')}`);
  process.exitCode = 1;
}
