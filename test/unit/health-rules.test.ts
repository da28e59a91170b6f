// Custom health rules (slipway.yaml `health-checks:`, CEL, after Flux's healthCheckExprs) and the
// `slipway.dev/wait: disabled` opt-out: how rules are parsed and refused, and what they decide.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config/config.ts';
import { describeError, UserError } from '../../src/core/errors.ts';
import {
  evaluateRule,
  healthWithRules,
  parseHealthChecks,
  type HealthCheckRule,
} from '../../src/core/health/health-rules.ts';
import { waitOptOut } from '../../src/core/health/health-wait.ts';
import type { KubeObject } from '../../src/core/objects.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import { scratch } from './support.ts';

function widget(status?: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', namespace: 'shop', generation: 1, ...metadata },
    spec: { size: 3 },
    ...(status ? { status } : {}),
  };
}

/** Parses rules that must be valid; fails the test with the problems otherwise. */
function rules(raw: unknown): HealthCheckRule[] {
  const problems: string[] = [];
  const parsed = parseHealthChecks(raw, (sub, message) => problems.push(`${sub}: ${message}`));
  assert.deepEqual(problems, []);
  return parsed;
}

function problemsOf(raw: unknown): string[] {
  const problems: string[] = [];
  parseHealthChecks(raw, (sub, message) => problems.push(`${sub}: ${message}`));
  return problems;
}

const phaseRule = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  current: "status.phase == 'Ready'",
  failed: "status.phase == 'Failed'",
};

describe('evaluating a rule', () => {
  const [rule] = rules([phaseRule]);
  assert.ok(rule);

  test('current and failed decide; anything else is still in progress', () => {
    assert.deepEqual(evaluateRule(rule, widget({ phase: 'Ready' })), {
      status: 'Current',
      message: "health-checks current: status.phase == 'Ready'",
    });
    assert.deepEqual(evaluateRule(rule, widget({ phase: 'Failed' })), {
      status: 'Failed',
      message: "health-checks failed: status.phase == 'Failed'",
    });
    const pending = evaluateRule(rule, widget({ phase: 'Provisioning' }));
    assert.equal(pending.status, 'InProgress');
    assert.match(pending.message, /waiting for current: status\.phase == 'Ready'/);
  });

  test('a field not there yet (no status at all) is waited on, with the reason', () => {
    for (const object of [widget(), widget({})]) {
      const health = evaluateRule(rule, object);
      assert.equal(health.status, 'InProgress');
      assert.match(health.message, /^health-checks failed cannot be evaluated yet: /);
    }
  });

  test('Flux order: inProgress before failed before current', () => {
    const [ordered] = rules([
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        inProgress: "status.phase != 'Ready' && status.retrying",
        failed: "status.phase == 'Failed' || status.retrying",
        current: 'true',
      },
    ]);
    assert.ok(ordered);
    assert.equal(evaluateRule(ordered, widget({ phase: 'Failed', retrying: true })).status, 'InProgress');
    assert.equal(evaluateRule(ordered, widget({ phase: 'Failed', retrying: false })).status, 'Failed');
    assert.equal(evaluateRule(ordered, widget({ phase: 'Ready', retrying: false })).status, 'Current');
  });

  test('a controller that has not seen the latest generation is in progress whatever the rule says', () => {
    const stale = widget({ phase: 'Ready', observedGeneration: 1 }, { generation: 2 });
    assert.deepEqual(evaluateRule(rule, stale), {
      status: 'InProgress',
      message: 'controller has not seen the latest spec',
    });
    assert.equal(
      evaluateRule(rule, widget({ phase: 'Ready', observedGeneration: 2 }, { generation: 2 })).status,
      'Current',
    );
  });

  test('an object being deleted is Terminating', () => {
    assert.equal(
      evaluateRule(rule, widget({ phase: 'Ready' }, { deletionTimestamp: '2026-01-01T00:00:00Z' })).status,
      'Terminating',
    );
  });

  test('expressions from the Flux CEL cheatsheet: conditions, optional fields, numbers from JSON', () => {
    const [conditions] = rules([
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        current: "status.?conditions.orValue([]).exists(e, e.type == 'Ready' && e.status == 'True')",
        failed: "status.?conditions.orValue([]).exists(e, e.type == 'Ready' && e.status == 'False')",
        inProgress: 'has(status.readyReplicas) && status.readyReplicas < spec.size',
      },
    ]);
    assert.ok(conditions);
    assert.equal(evaluateRule(conditions, widget({})).status, 'InProgress');
    assert.equal(
      evaluateRule(conditions, widget({ conditions: [{ type: 'Ready', status: 'True' }] })).status,
      'Current',
    );
    assert.equal(
      evaluateRule(conditions, widget({ conditions: [{ type: 'Ready', status: 'False' }] })).status,
      'Failed',
    );
    assert.equal(
      evaluateRule(conditions, widget({ readyReplicas: 2, conditions: [{ type: 'Ready', status: 'True' }] }))
        .status,
      'InProgress',
    );
    assert.equal(
      evaluateRule(conditions, widget({ readyReplicas: 3, conditions: [{ type: 'Ready', status: 'True' }] }))
        .status,
      'Current',
    );
  });

  test('whole numbers are CEL ints, as Flux sees them: arithmetic with int literals works', () => {
    const [counts] = rules([
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        current: 'status.readyReplicas + 1 > spec.size && status.ratio > 0.5',
      },
    ]);
    assert.ok(counts);
    assert.equal(evaluateRule(counts, widget({ readyReplicas: 3, ratio: 0.75 })).status, 'Current');
    assert.equal(evaluateRule(counts, widget({ readyReplicas: 2, ratio: 0.75 })).status, 'InProgress');
  });

  test('a rule matches its group and kind in any version; other kinds keep the kstatus rules', () => {
    const list = rules([phaseRule]);
    const v2 = { ...widget({ phase: 'Failed' }), apiVersion: 'example.com/v2' };
    assert.equal(healthWithRules(v2, list).status, 'Failed');
    // Another group's Widget, and a kind without a rule, are judged by kstatus: no conditions is Current.
    const other = { ...widget({ phase: 'Failed' }), apiVersion: 'other.example.com/v1' };
    assert.deepEqual(healthWithRules(other, list), { status: 'Current', message: 'applied' });
    const ready = { ...widget({ conditions: [{ type: 'Ready', status: 'False', message: 'wait' }] }) };
    assert.deepEqual(healthWithRules(ready, []), { status: 'InProgress', message: 'wait' });
  });
});

describe('parsing rules', () => {
  test('every problem is reported: syntax, a non-boolean result, missing and unknown keys, a repeated kind', () => {
    const problems = problemsOf([
      { apiVersion: 'example.com/v1', kind: 'Widget', current: "status.phase == 'Ready' &&" },
      { apiVersion: 'example.com/v1', kind: 'Gadget', current: 'status.replicas + 1' },
      { apiVersion: 'example.com/v1', current: 'true', healthy: 'true' },
      { apiVersion: 'example.com/v1', kind: 'Gizmo', failed: 'false' },
      { apiVersion: 'example.com/v2', kind: 'Widget', current: 'true' },
      { apiVersion: 'example.com/v1', kind: 'Sprocket', current: 'nosuchfunction(status)' },
      'Widget',
    ]);
    const expected = [
      /^0\.current: health-checks item 1 "current" is not a valid CEL expression: /,
      /^1\.current: health-checks item 2 "current" is not a valid CEL expression: the expression must be true or false, but it gives a int/,
      /^2\.healthy: unknown key "healthy" in health-checks item 3/,
      /^2: health-checks item 3 needs "kind"/,
      /^3: health-checks item 4 needs "current"/,
      /^5\.current: health-checks item 6 "current" is not a valid CEL expression: .*nosuchfunction/,
      /^6: health-checks item 7 must be a mapping/,
    ];
    for (const pattern of expected)
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `${String(pattern)} not in:\n${problems.join('\n')}`,
      );
    // Item 5 is a second rule for Widget.example.com (another version is the same kind): item 1 was
    // refused for its syntax, so item 5 is the first valid one and is kept.
    assert.equal(problems.length, expected.length, problems.join('\n'));
    assert.match(
      problemsOf([phaseRule, { ...phaseRule, apiVersion: 'example.com/v2' }]).join(),
      /^1: health-checks item 2 repeats item 1: both are for Widget\.example\.com/,
    );
  });

  test('rules for Secrets are refused: their values must not reach a log', () => {
    assert.match(
      problemsOf([{ apiVersion: 'v1', kind: 'Secret', current: 'has(data.token)' }]).join(),
      /health-checks for Secrets are refused/,
    );
    assert.equal(problemsOf([{ apiVersion: 'v1', kind: 'Service', current: 'true' }]).length, 0);
  });

  test('not a list', () => {
    assert.match(problemsOf({ Widget: 'true' }).join(), /must be a list/);
  });
});

describe('slipway.yaml health-checks', () => {
  function load(text: string): ReturnType<typeof loadConfig> {
    const tmp = scratch('slipway-health-');
    try {
      mkdirSync(path.join(tmp.dir, 'envs/prod'), { recursive: true });
      writeFileSync(path.join(tmp.dir, 'slipway.yaml'), text);
      return loadConfig(new RepoPaths(tmp.dir));
    } finally {
      tmp.cleanup();
    }
  }

  test('rules are compiled with the config and reach the environment', () => {
    const config = load(
      [
        'environments:',
        '  prod:',
        '    path: envs/prod',
        '    health-checks:',
        '      - apiVersion: example.com/v1',
        '        kind: Widget',
        `        current: "status.phase == 'Ready'"`,
        `        failed: "status.phase == 'Failed'"`,
        '',
      ].join('\n'),
    );
    const prod = config.environments.get('prod');
    assert.ok(prod);
    assert.equal(prod.healthChecks.length, 1);
    assert.equal(healthWithRules(widget({ phase: 'Failed' }), prod.healthChecks).status, 'Failed');
  });

  test('a bad expression is a config error with file and line, before anything runs', () => {
    const text = [
      'environments:',
      '  prod:',
      '    path: envs/prod',
      '    health-checks:',
      '      - apiVersion: example.com/v1',
      '        kind: Widget',
      `        current: "status.phase = 'Ready'"`,
      '',
    ].join('\n');
    let error: unknown;
    try {
      load(text);
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof UserError, String(error));
    assert.equal(error.kind, 'config');
    // The line of the environment's `health-checks:` key; the message names the item and the field.
    assert.deepEqual(error.location, { file: 'slipway.yaml', line: 4 });
    assert.match(
      describeError(error),
      /^slipway\.yaml:4: health-checks item 1 "current" is not a valid CEL expression: /,
    );
  });
});

describe('slipway.dev/wait: disabled', () => {
  test('only the value "disabled" opts an object out, and the reason says so', () => {
    const annotated = (value: string): KubeObject =>
      widget(undefined, { annotations: { 'slipway.dev/wait': value } });
    assert.equal(waitOptOut(annotated('disabled')), 'not waited for: annotation slipway.dev/wait: disabled');
    assert.equal(waitOptOut(annotated('false')), undefined);
    assert.equal(waitOptOut(widget()), undefined);
    assert.equal(waitOptOut(undefined), undefined);
  });
});
