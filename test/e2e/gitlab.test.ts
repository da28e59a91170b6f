// `slipway ci` run as the GitLab component runs it (node dist/cli.js ci, GitLab's predefined CI/CD
// variables, a file-type KUBECONFIG) against the real control plane and a GitLab API fake that
// checks every request against GitLab's published OpenAPI description.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from '../cluster/cluster.ts';
import { startGitLabServer, type FakeGitLab } from '../fakes/gitlab-server.ts';
import { kubectl, sharedCluster, stopSharedCluster, TestRepo, unique } from '../integration/harness.ts';
import { entry } from './runner.ts';

const TOKEN = 'glpat-e2eTokenValue-4c2a9e';
const JOB_TOKEN = 'glcbt-e2eJobTokenValue-91b3';
const SECRET_VALUE = 'planted-gitlab-secret-5e1d77';

let cluster: Cluster;
let gitlab: FakeGitLab;

before(async () => {
  cluster = await sharedCluster();
  gitlab = await startGitLabServer({ token: TOKEN, jobToken: JOB_TOKEN, mergeRequests: [7, 8, 99] });
});

after(async () => {
  await gitlab.close();
  await stopSharedCluster();
});

interface CiRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

type Pipeline =
  | { source: 'merge_request_event'; iid: number; base: string; head: string }
  | { source: 'push'; before: string; sha: string; branch?: string }
  | { source: 'web' | 'schedule'; sha: string };

/** GitLab's predefined variables for one job of `pipeline`, as a runner sets them. */
function gitlabEnv(
  repo: TestRepo,
  pipeline: Pipeline,
  extra: Record<string, string>,
): Record<string, string> {
  const sha = pipeline.source === 'merge_request_event' ? pipeline.head : pipeline.sha;
  const env: Record<string, string> = {
    PATH: cluster.env.PATH ?? process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    CI: 'true',
    GITLAB_CI: 'true',
    CI_SERVER_URL: 'https://gitlab.example.com',
    CI_API_V4_URL: gitlab.apiUrl,
    CI_PROJECT_ID: String(gitlab.projectId),
    CI_PROJECT_PATH: gitlab.projectPath,
    CI_PROJECT_URL: `https://gitlab.example.com/${gitlab.projectPath}`,
    CI_PROJECT_DIR: repo.dir,
    CI_DEFAULT_BRANCH: 'main',
    CI_PIPELINE_SOURCE: pipeline.source,
    CI_PIPELINE_ID: '1234',
    CI_PIPELINE_URL: `https://gitlab.example.com/${gitlab.projectPath}/-/pipelines/1234`,
    CI_JOB_ID: '5678',
    CI_JOB_URL: `https://gitlab.example.com/${gitlab.projectPath}/-/jobs/5678`,
    CI_JOB_TOKEN: JOB_TOKEN,
    CI_COMMIT_SHA: sha,
    // A file-type CI/CD variable: GitLab writes the kubeconfig to a file and sets the path.
    KUBECONFIG: cluster.adminKubeconfig,
    SLIPWAY_GITLAB_TOKEN: TOKEN,
    SLIPWAY_RETRY_SECONDS: '5',
    SLIPWAY_LOCK_WAIT_SECONDS: '5',
    // The component's jobs declare `environment: { action: prepare }`: GitLab records no
    // deployment itself, Slipway records one per real apply.
    CI_ENVIRONMENT_ACTION: 'prepare',
  };
  if (pipeline.source === 'merge_request_event') {
    Object.assign(env, {
      CI_MERGE_REQUEST_IID: String(pipeline.iid),
      CI_MERGE_REQUEST_DIFF_BASE_SHA: pipeline.base,
      CI_MERGE_REQUEST_PROJECT_ID: String(gitlab.projectId),
      CI_MERGE_REQUEST_SOURCE_PROJECT_ID: String(gitlab.projectId),
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'feature',
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
      CI_COMMIT_REF_NAME: 'feature',
    });
  } else {
    const branch = pipeline.source === 'push' ? (pipeline.branch ?? 'main') : 'main';
    Object.assign(env, { CI_COMMIT_BRANCH: branch, CI_COMMIT_REF_NAME: branch });
    if (pipeline.source === 'push') env.CI_COMMIT_BEFORE_SHA = pipeline.before;
  }
  return { ...env, ...extra };
}

/** `node dist/cli.js ci <args>` in the repository, as the component's script line runs it. */
function ci(
  repo: TestRepo,
  pipeline: Pipeline,
  args: string[],
  extra: Record<string, string> = {},
): Promise<CiRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [entry('cli'), 'ci', ...args],
      { env: gitlabEnv(repo, pipeline, extra), cwd: repo.dir, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

function repoFor(namespace: string, env: string, extra: Record<string, string> = {}): TestRepo {
  return new TestRepo({
    'slipway.yaml': `environments:\n  ${env}:\n    path: ${env}-cluster\n    namespace: ${namespace}\n    timeout: 60s\n`,
    [`${env}-cluster/namespace.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`,
    [`${env}-cluster/app.yaml`]: [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n',
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: ${SECRET_VALUE}\n`,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n',
    ].join('---\n'),
    'README.md': '# deploys\n',
    ...extra,
  });
}

/** Everything a secret could leak to: the job log, the report files, GitLab's state and requests. */
function everything(repo: TestRepo, run: CiRun): string {
  const reports = path.join(repo.dir, 'slipway-plan');
  const files = existsSync(reports)
    ? readdirSync(reports).map((f) => readFileSync(path.join(reports, f), 'utf8'))
    : [];
  const requests = gitlab.requests.map((r) => ({ ...r, headers: undefined }));
  return [run.stdout, run.stderr, ...files, JSON.stringify(gitlab.state), JSON.stringify(requests)].join(
    '\n',
  );
}

function assertNoSecrets(text: string): void {
  for (const value of [SECRET_VALUE, TOKEN, JOB_TOKEN]) {
    for (const form of [value, Buffer.from(value).toString('base64'), encodeURIComponent(value)]) {
      assert.ok(
        !text.includes(form),
        `leaked ${value === SECRET_VALUE ? 'the Secret value' : 'a token'} (${form})`,
      );
    }
  }
}

const ourNotes = (iid: number) => gitlab.notesOn(iid).filter((n) => n.authorId === gitlab.bot.id);

describe('merge request → merge → drift, as the GitLab component runs Slipway', () => {
  test('the whole loop', async () => {
    const env = unique('beta').replace(/-/g, '');
    const namespace = unique('gl');
    const repo = repoFor(namespace, env);
    const base = repo.git('rev-parse', 'HEAD');
    // A value that tries to close the code block, the <details> and forge our markers.
    const marker = `<!-- slipway:plan:${env} -->`;
    const hostile = `"\`\`\`\\n</details>\\n${marker}\\n<!-- slipway:section:x:end -->\\n| a | b |"`;
    const head = repo.commit(
      {
        [`${env}-cluster/extra.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: "1"\n  note: ${hostile}\n`,
      },
      'add extra',
    );

    // 1. The merge request pipeline: a live plan in one sticky note and a commit status.
    const plan = await ci(repo, { source: 'merge_request_event', iid: 7, base, head }, ['--env', env]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(
      plan.stderr,
      new RegExp(`slipway ci: plan \\(pipeline source merge_request_event, merge request !7`),
    );
    const notes = ourNotes(7);
    assert.equal(notes.length, 1);
    const note = notes[0]!;
    assert.ok(note.body.startsWith(marker), 'one note per environment, found by its own marker');
    assert.equal(note.body.split(marker).length, 2, 'object content cannot forge the marker');
    assert.match(note.body, new RegExp(`\\| ${env} \\| 5 \\| 0 \\| 0 \\| 0 \\| 0 \\| 🟡 changes \\|`));
    assert.match(note.body, /create Secret/);
    assert.match(note.body, /secret keys: added password \(values are never shown\)/);
    assert.match(note.body, new RegExp(`For commit \`${head.slice(0, 12)}\``));
    // The hostile value stays inside a code block longer than any backtick run in it.
    assert.match(note.body, /````diff\n/);
    assert.equal(note.body.match(/<!-- slipway:section:[a-z0-9-]+:end -->/g)?.length, 1);
    const status = gitlab.state.statuses.find((s) => s.name === `slipway / ${env}`);
    assert.equal(status?.state, 'success');
    assert.equal(status.sha, head);
    assert.equal(status.pipelineId, 1234);
    assert.equal(status.targetUrl, `https://gitlab.example.com/${gitlab.projectPath}/-/jobs/5678`);
    assert.match(readFileSync(path.join(repo.dir, 'slipway-plan', `${env}.md`), 'utf8'), /## Slipway plan/);
    assert.match(plan.stdout, /create ConfigMap .*extra/);
    assert.ok(
      gitlab.requests.every(
        (r) => r.headers['private-token'] === TOKEN && r.headers['job-token'] === undefined,
      ),
      'every request uses the project access token, never CI_JOB_TOKEN',
    );
    assertNoSecrets(everything(repo, plan));

    // 2. A new push to the merge request updates the same note in place.
    const head2 = repo.commit(
      {
        [`${env}-cluster/extra.yaml`]:
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: "2"\n',
      },
      'change extra',
    );
    const replan = await ci(repo, { source: 'merge_request_event', iid: 7, base, head: head2 }, [
      '--env',
      env,
    ]);
    assert.equal(replan.code, 0, replan.stderr);
    const after2 = ourNotes(7);
    assert.equal(after2.length, 1, 'still one note');
    assert.equal(after2[0]!.id, note.id, 'the same note, updated in place');
    assert.match(after2[0]!.body, new RegExp(head2.slice(0, 12)));
    assert.equal(gitlab.notesOn(7).length, 1);

    // 3. The merge: a push to the default branch applies and records one deployment through the
    // API (running, then success); a commit status per environment; the result goes into the
    // merged merge request's note of the environment.
    gitlab.mergeMergeRequest(7, head2);
    const apply = await ci(repo, { source: 'push', before: base, sha: head2 }, ['--env', env]);
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /Slipway apply: .* — succeeded/);
    assert.equal(
      kubectl(cluster, ['get', 'configmap', 'extra', '-n', namespace, '-o', 'jsonpath={.data.a}']),
      '2',
    );
    assert.equal(
      kubectl(cluster, [
        'get',
        'deployment',
        'web',
        '-n',
        namespace,
        '-o',
        'jsonpath={.status.availableReplicas}',
      ]),
      '1',
    );
    const deployments = () => gitlab.state.deployments.filter((d) => d.environment === env);
    assert.equal(deployments().length, 1);
    assert.equal(deployments()[0]!.sha, head2);
    assert.equal(deployments()[0]!.statuses[0], 'running');
    assert.equal(deployments()[0]!.statuses.at(-1), 'success');
    const applied = gitlab.state.statuses.find((s) => s.name === `slipway/${env}`);
    assert.equal(applied?.state, 'success');
    assert.equal(applied.sha, head2);
    const merged = ourNotes(7);
    assert.equal(merged.length, 1, 'still one note for the whole life of the merge request');
    assert.equal(merged[0]!.id, note.id);
    assert.match(
      merged[0]!.body,
      new RegExp(`✅ \\*\\*Applied\\*\\* commit \`${head2.slice(0, 12)}\` in \\d+ s`),
    );
    assert.match(merged[0]!.body, /health: all \d+ checked objects Current/);
    assertNoSecrets(everything(repo, apply));

    // 4. A push to another branch does nothing.
    const other = await ci(repo, { source: 'push', before: base, sha: head2, branch: 'feature' }, [
      '--env',
      env,
    ]);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stderr, /nothing to do: a push to feature: Slipway applies pushes to main only/);

    // 4b. A push to main that does not change the environment applies nothing and records no
    // deployment (GitLab's own `environment: start` would have recorded one for every push).
    const readme = repo.commit({ 'README.md': '# deploys, edited\n' }, 'docs');
    const unchanged = await ci(repo, { source: 'push', before: head2, sha: readme }, ['--env', env]);
    assert.equal(unchanged.code, 0, unchanged.stderr);
    assert.match(unchanged.stderr, new RegExp(`${env} is not changed by this push: nothing to do for it`));
    assert.equal(deployments().length, 1, 'no deployment for an environment the push did not change');

    // 5. Someone scales by hand; the scheduled pipeline opens a drift issue naming the manager.
    kubectl(cluster, ['scale', 'deployment', 'web', '-n', namespace, '--replicas=3']);
    const drift = await ci(repo, { source: 'schedule', sha: head2 }, ['--mode', 'drift', '--env', env]);
    assert.equal(drift.code, 0, drift.stderr);
    const issue = gitlab.state.issues.find((i) => i.title === `Drift in ${env}`);
    assert.equal(issue?.state, 'opened');
    assert.match(issue.description ?? '', /kubectl/);

    // 6. A pipeline run from the web UI re-syncs; the next scheduled run closes the issue.
    const resync = await ci(repo, { source: 'web', sha: head2 }, ['--env', env]);
    assert.equal(resync.code, 0, resync.stderr);
    assert.match(resync.stderr, /slipway ci: resync/);
    assert.equal(deployments().length, 2, 'the re-sync is a real apply: one more deployment');
    assert.equal(
      kubectl(cluster, ['get', 'deployment', 'web', '-n', namespace, '-o', 'jsonpath={.spec.replicas}']),
      '1',
    );
    const clean = await ci(repo, { source: 'schedule', sha: head2 }, ['--mode', 'drift', '--env', env]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(gitlab.state.issues.find((i) => i.iid === issue.iid)?.state, 'closed');

    assert.deepEqual(gitlab.takeViolations(), []);
    repo.remove();
  });

  test('a plan far over GitHub’s 65,536 characters fits one GitLab note (budget 1,000,000) in full', async () => {
    const env = unique('big').replace(/-/g, '');
    const namespace = unique('gl');
    const many: Record<string, string> = {};
    for (let i = 0; i < 120; i++) {
      many[`${env}-cluster/cm-${i}.yaml`] =
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n${Array.from({ length: 20 }, (_, k) => `  key${k}: "${'x'.repeat(40)}${i}"`).join('\n')}\n`;
    }
    const repo = repoFor(namespace, env, many);
    const sha = repo.git('rev-parse', 'HEAD');
    const plan = await ci(repo, { source: 'merge_request_event', iid: 99, base: sha, head: sha }, []);
    // base == head: nothing changed, so nothing is planned without --env…
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(ourNotes(99).length, 0);
    assert.match(plan.stderr, /changed since [0-9a-f]{12}: no environment/);
    // …and with --env, the environment is planned only when the merge request changes it.
    const named = await ci(repo, { source: 'merge_request_event', iid: 99, base: sha, head: sha }, [
      '--env',
      env,
    ]);
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stderr, new RegExp(`${env} is not changed by this merge request`));
    // Its commit status still reports, passed, so a pipeline that requires it does not wait (once
    // from the plan of every environment, once from the job of this one).
    const notAffected = gitlab.state.statuses.filter((s) => s.name === `slipway / ${env}` && s.sha === sha);
    assert.deepEqual(
      notAffected.map((s) => [s.state, s.description]),
      [
        ['success', 'not affected by this change'],
        ['success', 'not affected by this change'],
      ],
    );
    const head = repo.commit({ 'README.md': '# deploys, again\n' }, 'touch');
    const full = await ci(
      repo,
      { source: 'merge_request_event', iid: 99, base: head, head },
      ['--mode', 'plan'],
      {
        // No base: every environment counts as changed.
        CI_MERGE_REQUEST_DIFF_BASE_SHA: '',
      },
    );
    assert.equal(full.code, 0, full.stderr);
    const bodies = ourNotes(99);
    assert.equal(bodies.length, 1);
    const length = Array.from(bodies[0]!.body).length;
    assert.ok(length > 65_536, `the note is ${length} characters: more than a GitHub comment could hold`);
    assert.ok(length <= 1_000_000);
    assert.doesNotMatch(bodies[0]!.body, /shortened to fit the comment/);
    for (let i = 0; i < 120; i++) assert.ok(bodies[0]!.body.includes(`cm-${i}`), `the note has cm-${i}`);
    assert.deepEqual(gitlab.takeViolations(), []);
    repo.remove();
  });

  test('without SLIPWAY_GITLAB_TOKEN the plan still runs and says how to post notes', async () => {
    const env = unique('notoken').replace(/-/g, '');
    const repo = repoFor(unique('gl'), env);
    const sha = repo.git('rev-parse', 'HEAD');
    const before = gitlab.requests.length;
    const run = await ci(
      repo,
      { source: 'merge_request_event', iid: 8, base: sha, head: sha },
      ['--mode', 'plan'],
      {
        SLIPWAY_GITLAB_TOKEN: '',
        CI_MERGE_REQUEST_DIFF_BASE_SHA: '',
      },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /SLIPWAY_GITLAB_TOKEN is not set: nothing is posted to GitLab/);
    assert.match(run.stderr, /CI_JOB_TOKEN cannot post notes/);
    assert.equal(gitlab.requests.length, before, 'no request, and certainly none with CI_JOB_TOKEN');
    assert.ok(existsSync(path.join(repo.dir, 'slipway-plan', `${env}.md`)));
    repo.remove();
  });

  test('a wrong token fails the job with a message that names the variable, not the token', async () => {
    const env = unique('badtoken').replace(/-/g, '');
    const repo = repoFor(unique('gl'), env);
    const sha = repo.git('rev-parse', 'HEAD');
    const run = await ci(
      repo,
      { source: 'merge_request_event', iid: 8, base: sha, head: sha },
      ['--mode', 'plan'],
      {
        SLIPWAY_GITLAB_TOKEN: 'glpat-not-the-right-one',
        CI_MERGE_REQUEST_DIFF_BASE_SHA: '',
      },
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /GitLab rejected the token in SLIPWAY_GITLAB_TOKEN/);
    assert.match(run.stderr, /CI_JOB_TOKEN cannot be used/);
    assert.ok(!run.stderr.includes('glpat-not-the-right-one'));
    repo.remove();
  });

  test('outside GitLab CI the command says where it runs', async () => {
    const repo = repoFor(unique('gl'), 'x');
    const run = await ci(repo, { source: 'web', sha: repo.git('rev-parse', 'HEAD') }, [], { GITLAB_CI: '' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /`slipway ci` runs inside a GitLab CI\/CD job \(GITLAB_CI is not set\)/);
    repo.remove();
  });
});

describe('the GitLab job refuses to guess (issue 13)', () => {
  test('a web pipeline on another branch does not re-sync it (item 5)', async () => {
    const env = unique('glrs').replace(/-/g, '');
    const namespace = unique('gl');
    const repo = repoFor(namespace, env);
    const sha = repo.git('rev-parse', 'HEAD');
    const run = await ci(repo, { source: 'web', sha }, ['--mode', 'resync', '--env', env], {
      CI_COMMIT_BRANCH: 'feature',
      CI_COMMIT_REF_NAME: 'feature',
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /re-sync applies the deploy branch \(main\) only, but this run is for branch feature/,
    );
    assert.equal(
      kubectl(cluster, ['get', 'namespace', namespace, '--ignore-not-found', '-o', 'name']),
      '',
      'nothing was applied',
    );
    assert.equal(gitlab.state.deployments.filter((d) => d.environment === env).length, 0);
    repo.remove();
  });

  test('without KUBECONFIG the job never falls back to ~/.kube/config (item 6)', async () => {
    const env = unique('glcred').replace(/-/g, '');
    const repo = repoFor(unique('gl'), env);
    const base = repo.git('rev-parse', 'HEAD');
    const head = repo.commit(
      { [`${env}-cluster/more.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n' },
      'more',
    );
    const home = mkdtempSync(path.join(tmpdir(), 'slipway-home-'));
    mkdirSync(path.join(home, '.kube'));
    writeFileSync(path.join(home, '.kube', 'config'), readFileSync(cluster.adminKubeconfig, 'utf8'));
    const run = await ci(repo, { source: 'merge_request_event', iid: 8, base, head }, ['--env', env], {
      KUBECONFIG: '',
      HOME: home,
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /no cluster credentials: KUBECONFIG is not set/);
    assert.match(run.stderr, /in-cluster: true/);
    const planned = await ci(repo, { source: 'merge_request_event', iid: 8, base, head }, ['--env', env]);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(
      planned.stderr,
      new RegExp(`${env}: planning against ${cluster.server} \\(context slipway-admin\\) as slipway-admin`),
    );
    repo.remove();
  });

  test('a drift check the reader may not make fails and keeps the issue open (item 8)', async () => {
    const env = unique('gldr').replace(/-/g, '');
    const namespace = unique('gl');
    const repo = repoFor(namespace, env);
    const sha = repo.git('rev-parse', 'HEAD');
    const apply = await ci(repo, { source: 'web', sha }, ['--env', env]);
    assert.equal(apply.code, 0, apply.stderr);
    const forbidden = await ci(repo, { source: 'schedule', sha }, ['--mode', 'drift', '--env', env], {
      KUBECONFIG: cluster.restrictedKubeconfig,
    });
    assert.equal(forbidden.code, 1, forbidden.stderr);
    assert.doesNotMatch(forbidden.stderr, /in sync with Git/);
    assert.match(forbidden.stdout, new RegExp(`"unchecked":\\["${env}"\\]`));
    const issue = gitlab.state.issues.find((i) => i.title === `Drift in ${env}`);
    assert.equal(issue?.state, 'opened');
    assert.match(issue.description ?? '', /could not check/);
    const clean = await ci(repo, { source: 'schedule', sha }, ['--mode', 'drift', '--env', env]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(gitlab.state.issues.find((i) => i.iid === issue.iid)?.state, 'closed');
    assert.deepEqual(gitlab.takeViolations(), []);
    repo.remove();
  });

  test('a protected KUBECONFIG does not reach merge request plans: they use SLIPWAY_PLAN_KUBECONFIG (item 10)', async () => {
    const env = unique('glpk').replace(/-/g, '');
    const repo = repoFor(unique('gl'), env);
    const base = repo.git('rev-parse', 'HEAD');
    const head = repo.commit(
      { [`${env}-cluster/more.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n' },
      'more',
    );
    gitlab.addMergeRequest(41);
    // The protected KUBECONFIG is not set in a merge request pipeline of an unprotected branch.
    const without = await ci(repo, { source: 'merge_request_event', iid: 41, base, head }, ['--env', env], {
      KUBECONFIG: '',
    });
    assert.equal(without.code, 1);
    assert.match(without.stderr, /SLIPWAY_PLAN_KUBECONFIG/, 'the message names the way out');
    const planned = await ci(repo, { source: 'merge_request_event', iid: 41, base, head }, ['--env', env], {
      KUBECONFIG: '',
      SLIPWAY_PLAN_KUBECONFIG: cluster.adminKubeconfig,
    });
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /create ConfigMap .*more/);
    // Preferred over KUBECONFIG for plans, never used to apply.
    const preferred = await ci(repo, { source: 'merge_request_event', iid: 41, base, head }, ['--env', env], {
      KUBECONFIG: path.join(repo.dir, 'no-such-kubeconfig'),
      SLIPWAY_PLAN_KUBECONFIG: cluster.adminKubeconfig,
    });
    assert.equal(preferred.code, 0, preferred.stderr);
    const apply = await ci(repo, { source: 'push', before: base, sha: head }, ['--env', env], {
      KUBECONFIG: '',
      SLIPWAY_PLAN_KUBECONFIG: cluster.adminKubeconfig,
    });
    assert.equal(apply.code, 1, 'the plan identity never applies');
    assert.match(apply.stderr, /no cluster credentials/);
    assert.deepEqual(gitlab.takeViolations(), []);
    repo.remove();
  });
});
