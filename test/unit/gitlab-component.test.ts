// templates/slipway.yml, the GitLab CI/CD component, checked against GitLab's own CI schema
// (vendored in test/fakes/gitlab-ci-schema/ci.json) before and after its inputs are interpolated,
// and kept in step with the CLI it runs and the README that shows how to include it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { load, loadAll } from 'js-yaml';
import { parseArgs } from '../../src/cli/args.ts';
import { compileJsonSchema } from '../support/json-schema.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const source = readFileSync(path.join(root, 'templates', 'slipway.yml'), 'utf8');
const validate = compileJsonSchema(
  JSON.parse(readFileSync(path.join(root, 'test', 'fakes', 'gitlab-ci-schema', 'ci.json'), 'utf8')) as object,
);

interface Input {
  readonly description?: string;
  readonly type?: string;
  readonly default?: unknown;
  readonly regex?: string;
  readonly options?: unknown[];
}

type Job = Record<string, unknown> & {
  readonly script?: string[];
  readonly rules?: { if?: string }[];
  readonly environment?: { name: string; action?: string };
  readonly extends?: string;
  readonly variables?: Record<string, string>;
  readonly before_script?: string[];
};

const documents = loadAll(source) as [{ spec: { inputs: Record<string, Input> } }, Record<string, Job>];
const inputs = documents[0].spec.inputs;

/** GitLab's interpolation: `$[[ inputs.name ]]` replaced by the value, as text, in keys and values. */
function interpolate(values: Record<string, string>): Record<string, Job> {
  const jobs = source.split(/^---$/m)[1] ?? '';
  return load(
    jobs.replace(/\$\[\[\s*inputs\.([a-z0-9_-]+)\s*\]\]/g, (_, name: string) => {
      const value = values[name] ?? inputs[name]?.default;
      if (value === undefined) throw new Error(`input ${name} has no value`);
      return typeof value === 'string' ? value : JSON.stringify(value);
    }),
  ) as Record<string, Job>;
}

describe('templates/slipway.yml is a valid GitLab CI/CD component', () => {
  test('it is two YAML documents: the spec header, then the jobs', () => {
    assert.equal(documents.length, 2);
    assert.deepEqual(Object.keys(documents[0]), ['spec']);
    assert.deepEqual(validate(documents[0]), [], 'the header is valid configuration on its own');
  });

  test('the jobs document is valid against GitLab’s CI schema', () => {
    assert.deepEqual(validate(documents[1]), []);
  });

  test('the schema really rejects a broken job (the check can fail)', () => {
    assert.ok(validate({ job: { script: ['x'], environment: { name: 'a', action: 'deploy' } } }).length > 0);
    assert.ok(validate({ job: { scripts: ['x'] } }).length > 0);
  });

  test('every input is described and typed; environment has no default; each is used', () => {
    const used = new Set([...source.matchAll(/\$\[\[\s*inputs\.([a-z0-9_-]+)\s*\]\]/g)].map((m) => m[1]));
    for (const [name, input] of Object.entries(inputs)) {
      assert.match(name, /^[a-z][a-z0-9-]*$/, `input ${name}: lowercase words joined by -`);
      assert.ok(input.description && input.description.length > 10, `input ${name} has a description`);
      assert.ok(
        ['string', 'boolean', 'number', 'array'].includes(input.type ?? 'string'),
        `input ${name} type`,
      );
      assert.ok(used.has(name), `input ${name} is used`);
      if (input.default !== undefined) assert.equal(typeof input.default, input.type ?? 'string');
    }
    for (const name of used) assert.ok(name && name in inputs, `$[[ inputs.${name} ]] is declared`);
    assert.equal(inputs.environment?.default, undefined, 'environment must be given');
    const regex = new RegExp(inputs.environment?.regex ?? '');
    assert.ok(regex.test('beta') && regex.test('live-eu') && !regex.test('Beta') && !regex.test('a b'));
  });

  test('interpolated, it is still valid, and each pipeline source reaches the right job', () => {
    const jobs = interpolate({ environment: 'beta' });
    assert.deepEqual(validate(jobs), []);
    const plan = jobs['slipway-plan-beta'];
    const apply = jobs['slipway-apply-beta'];
    const drift = jobs['slipway-drift-beta'];
    const template = jobs['.slipway-beta'];
    assert.ok(plan && apply && drift && template);
    assert.deepEqual(
      plan.rules?.map((r) => r.if),
      ['$CI_PIPELINE_SOURCE == "merge_request_event"'],
    );
    assert.deepEqual(
      apply.rules?.map((r) => r.if?.split(' && ').slice(0, 2).join(' && ')),
      [
        '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH',
        '$CI_PIPELINE_SOURCE == "web" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH',
      ],
    );
    assert.deepEqual(
      drift.rules?.map((r) => r.if),
      ['$CI_PIPELINE_SOURCE == "schedule" && $SLIPWAY_SCHEDULE != "images"'],
    );
    assert.deepEqual(
      jobs['slipway-images-beta']?.rules?.map((r) => r.if),
      ['$CI_PIPELINE_SOURCE == "schedule" && $SLIPWAY_SCHEDULE == "images"'],
    );
    // The environment keyword: variables scoped to it reach the job; none records a deployment
    // (Slipway records one per real apply).
    assert.deepEqual(plan.environment, { name: 'beta', action: 'prepare' });
    assert.deepEqual(apply.environment, { name: 'beta', action: 'prepare' });
    assert.deepEqual(drift.environment, { name: 'beta', action: 'verify' });
    assert.equal(apply.resource_group, 'slipway-beta');
    // Every include's images job may keep the one grouped merge request: they share one lock.
    assert.equal(jobs['slipway-images-beta'].resource_group, 'slipway-images');
    // No cluster credentials for image updates: without an environment (its own or its template's),
    // KUBECONFIG scoped to the environment never reaches the images job.
    assert.equal(jobs['slipway-images-beta'].environment, undefined);
    assert.equal(template.environment, undefined);
    assert.equal(
      interpolate({ environment: 'live' })['slipway-images-live']?.resource_group,
      'slipway-images',
    );
    assert.equal(template.variables?.GIT_DEPTH, '0', 'detection needs the history');
    assert.equal(template.image, 'node:24');
    for (const job of [plan, apply, drift]) assert.equal(job.extends, '.slipway-beta');
  });

  test('the scripts run the bundled CLI with arguments it accepts', () => {
    const jobs = interpolate({ environment: 'beta' });
    const scripts = Object.values(jobs).flatMap((job) => job.script ?? []);
    assert.equal(scripts.length, 4);
    for (const line of scripts) {
      const match = /^node "\$SLIPWAY_HOME\/dist\/cli\.js" (.+)$/.exec(line);
      assert.ok(match?.[1], line);
      const argv = [...match[1].matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
      const command = parseArgs(argv);
      if (command.name !== 'ci') assert.fail(`not a ci command: ${line}`);
      assert.equal(command.env, 'beta');
    }
    assert.ok(
      (jobs['.slipway-beta']?.before_script ?? []).some((l) =>
        l.startsWith(
          'git clone --quiet --depth 1 --branch "v0" "https://gitlab.com/slipway-dev/slipway.git"',
        ),
      ),
    );
  });
});

describe('README shows how to include the component', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = /## GitLab CI\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';

  test('the README has a GitLab CI section before the security model', () => {
    assert.ok(section.length > 0);
    assert.ok(readme.indexOf('## GitLab CI') < readme.indexOf('## Security model'));
    for (const name of ['SLIPWAY_GITLAB_TOKEN', 'KUBECONFIG', 'merge_request_event', 'schedule'])
      assert.ok(section.includes(name), `mentions ${name}`);
  });

  test('its .gitlab-ci.yml is valid and passes only declared inputs', () => {
    const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const configs = blocks.map((b) => load(b) as Record<string, unknown>).filter((c) => 'include' in c);
    assert.ok(configs.length >= 1);
    for (const config of configs) {
      assert.deepEqual(validate(config), []);
      const includes = config.include as { component: string; inputs?: Record<string, unknown> }[];
      for (const include of includes) {
        assert.match(include.component, /\/slipway@/);
        for (const name of Object.keys(include.inputs ?? {}))
          assert.ok(name in inputs, `input ${name} exists`);
        assert.ok(include.inputs && 'environment' in include.inputs);
      }
    }
  });
});
