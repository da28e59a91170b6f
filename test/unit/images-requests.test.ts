// Which image pull requests a run keeps (per environment or grouped), and the `image-pull-requests`
// key that chooses: the pure decisions both forges translate.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config/config.ts';
import { UserError } from '../../src/core/errors.ts';
import { RepoPaths } from '../../src/core/paths.ts';
import { proposeImageUpdates, type ProposalPlatform } from '../../src/core/images/propose.ts';
import {
  commitMessage,
  editsByFile,
  planImageRequests,
  replacedComment,
  requestBody,
} from '../../src/core/images/requests.ts';
import type { ImageUpdate } from '../../src/core/images/updates.ts';
import { scratch } from './support.ts';

function update(file: string, start: number, to: string, policy = 'web'): ImageUpdate {
  return {
    file,
    line: 3,
    start,
    end: start + 5,
    policy,
    image: 'ghcr.io/acme/web',
    from: '1.0.0',
    to,
    digest: `sha256:${'a'.repeat(64)}`,
    text: to,
    plain: true,
  };
}

describe('planImageRequests', () => {
  const staging = { environment: 'staging', updates: [update('clusters/staging/a.yaml', 10, '1.1.0')] };
  const production = { environment: 'production', updates: [] };

  test('per environment: one request each, the grouped branch is the stale one', () => {
    const plan = planImageRequests([staging, production], 'per-environment', ['staging', 'production']);
    assert.deepEqual(
      plan.requests.map((r) => [r.branch, r.updates]),
      [
        ['slipway/images/staging', 1],
        ['slipway/images/production', 0],
      ],
    );
    assert.deepEqual(plan.stale, [{ branch: 'slipway/images/all', name: 'all' }]);
  });

  test('grouped: one request for all, every configured environment’s branch is stale', () => {
    const plan = planImageRequests([staging, production], 'grouped', ['staging', 'production', 'live']);
    assert.deepEqual(
      plan.requests.map((r) => [r.branch, r.name, r.updates]),
      [['slipway/images/all', 'all', 1]],
    );
    assert.deepEqual(
      plan.stale.map((s) => s.branch),
      ['slipway/images/staging', 'slipway/images/production', 'slipway/images/live'],
    );
    // Only environments with bumps get a section.
    const body = requestBody(plan.requests[0]!, 'grouped');
    assert.match(body, /### staging\n/);
    assert.doesNotMatch(body, /### production/);
  });

  test('an environment named `all` shares the grouped branch, which is then never closed as stale', () => {
    const all = { environment: 'all', updates: [update('clusters/all/a.yaml', 1, '1.1.0')] };
    assert.deepEqual(planImageRequests([all], 'per-environment', ['all']).stale, []);
    assert.deepEqual(planImageRequests([all], 'grouped', ['all']).stale, []);
  });

  test('a file two environments share is edited once; different text at one place is no edit', () => {
    const shared = update('values.yaml', 20, '1.1.0');
    const { edits, conflicts } = editsByFile([
      { environment: 'a', updates: [shared, update('values.yaml', 40, '2.0.0', 'api')] },
      { environment: 'b', updates: [shared, update('values.yaml', 40, '2.1.0', 'api-b')] },
    ]);
    assert.deepEqual(edits.get('values.yaml'), [shared]);
    assert.deepEqual(conflicts, [
      'values.yaml:3: environments a and b want 2.0.0 and 2.1.0 (policies api, api-b): left as it is',
    ]);
    const plan = planImageRequests(
      [
        { environment: 'a', updates: [update('values.yaml', 40, '2.0.0', 'api')] },
        { environment: 'b', updates: [update('values.yaml', 40, '2.1.0', 'api-b')] },
      ],
      'grouped',
      ['a', 'b'],
    );
    assert.equal(plan.requests[0]?.updates, 0, 'the body lists nothing the branch does not edit');
    assert.equal(plan.conflicts.length, 1);
  });

  test('a line several environments use is called out in each body and commit, with every environment it changes', () => {
    const base = { ...update('base/deployment.yaml', 50, '1.2.0'), line: 17 };
    const own = update('overlays/dev/values.yaml', 10, '1.2.0', 'api');
    const scanned = [
      { environment: 'dev', updates: [own, base] },
      { environment: 'staging', updates: [base] },
      { environment: 'prod', updates: [update('overlays/prod/kustomization.yaml', 5, '1.2.0')] },
    ];
    const plan = planImageRequests(scanned, 'per-environment', ['dev', 'staging', 'prod']);
    const [dev, staging, prod] = plan.requests;
    assert.ok(dev && staging && prod);
    const row =
      '- `base/deployment.yaml:17` (`ghcr.io/acme/web` 1.0.0 → 1.2.0): affects **dev**, **staging**';
    const devBody = requestBody(dev, 'per-environment');
    assert.ok(
      devBody.includes(
        `**Shared lines.** These lines are used by more than one environment: merging this pull request changes them all, not only **dev** (their own image pull requests carry the same edit).\n\n${row}\n`,
      ),
      devBody,
    );
    // Only the shared line is listed, once.
    assert.equal(devBody.split('overlays/dev/values.yaml').length, 2);
    assert.equal(devBody.split(row).length, 2);
    assert.match(requestBody(staging, 'per-environment'), /not only \*\*staging\*\*/);
    assert.doesNotMatch(requestBody(prod, 'per-environment'), /Shared lines/);
    assert.match(
      commitMessage(dev),
      /\nbase\/deployment\.yaml:17 ghcr\.io\/acme\/web 1\.0\.0 -> 1\.2\.0 \(affects dev, staging\)\n/,
    );
    assert.match(
      commitMessage(dev),
      /\noverlays\/dev\/values\.yaml:3 ghcr\.io\/acme\/web 1\.0\.0 -> 1\.2\.0\n/,
    );
    const grouped = requestBody(planImageRequests(scanned, 'grouped', ['dev']).requests[0]!, 'grouped');
    assert.ok(grouped.includes(`each edit changes all of them.\n\n${row}\n`), grouped);
  });

  test('the closing comment of a replaced request names the mode and the new requests', () => {
    assert.equal(
      replacedComment('grouped', ['https://x/pull/9']),
      'Slipway now keeps one pull request for every environment (`image-pull-requests: grouped` in slipway.yaml): the image updates are in https://x/pull/9. Closing this one.',
    );
    assert.match(replacedComment('grouped', []), /no image updates are left: closing\.$/);
    assert.match(
      replacedComment('per-environment', ['https://x/pull/3', 'https://x/pull/4']),
      /per-environment.*\(this run: https:\/\/x\/pull\/3, https:\/\/x\/pull\/4\)\.$/,
    );
  });
});

describe('proposeImageUpdates', () => {
  const quiet = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
    group: <T>(_t: string, work: () => T) => work(),
  };
  /** Records what the job asks of the forge; every branch has an open request to close. */
  function recorder() {
    const calls: string[] = [];
    let next = 1;
    const platform: ProposalPlatform = {
      propose: (p) => {
        calls.push(`propose ${p.branch} ${[...p.files.keys()].join(',')}`);
        return Promise.resolve({ number: 7, url: 'https://x/pull/7', created: true, pushed: true });
      },
      withdraw: (branch, comment) => {
        calls.push(`withdraw ${branch}: ${comment}`);
        return Promise.resolve(next++);
      },
    };
    return { calls, platform };
  }
  const environments = [
    { environment: 'staging', updates: [update('clusters/staging/a.yaml', 10, '1.1.0')] },
    { environment: 'production', updates: [update('clusters/production/a.yaml', 10, '1.1.0')] },
  ];
  const run = (platform: ProposalPlatform, problems: string[], envs = environments) =>
    proposeImageUpdates(
      { environments: envs, problems, skipped: [] },
      (file) => `image: ${file}:1.0.0\n`,
      platform,
      { branch: 'main', sha: 'abc' },
      { mode: 'grouped', configured: ['staging', 'production'] },
      quiet,
    );

  test('grouped: one proposal with both files, then the per-environment requests are closed pointing at it', async () => {
    const { calls, platform } = recorder();
    const outcomes = await run(platform, []);
    assert.deepEqual(calls, [
      'propose slipway/images/all clusters/production/a.yaml,clusters/staging/a.yaml',
      `withdraw slipway/images/staging: ${replacedComment('grouped', ['https://x/pull/7'])}`,
      `withdraw slipway/images/production: ${replacedComment('grouped', ['https://x/pull/7'])}`,
    ]);
    assert.deepEqual(
      outcomes.map((o) => [o.environment, o.branch, o.updates, o.closed]),
      [
        ['all', 'slipway/images/all', 2, undefined],
        ['staging', 'slipway/images/staging', 0, 1],
        ['production', 'slipway/images/production', 0, 2],
      ],
    );
  });

  test('after a registry failure nothing is closed, neither an empty request nor the other mode’s', async () => {
    const { calls, platform } = recorder();
    await run(
      platform,
      ['image policy "web": registry down'],
      [
        { environment: 'staging', updates: [] },
        { environment: 'production', updates: [] },
      ],
    );
    assert.deepEqual(calls, []);
  });
});

describe('image-pull-requests in slipway.yaml', () => {
  const s = scratch('slipway-image-requests-');
  after(() => s.cleanup());
  const load = (text: string) => {
    const dir = path.join(s.dir, String(Math.random()).slice(2));
    mkdirSync(path.join(dir, 'clusters', 'beta'), { recursive: true });
    writeFileSync(path.join(dir, 'slipway.yaml'), text);
    return loadConfig(new RepoPaths(dir));
  };
  const envs = 'environments:\n  beta:\n    path: clusters/beta\n';

  test('defaults to per-environment, takes grouped', () => {
    assert.equal(load(envs).imagePullRequests, 'per-environment');
    assert.equal(load(`${envs}image-pull-requests: grouped\n`).imagePullRequests, 'grouped');
  });

  test('anything else is an error at its line', () => {
    assert.throws(
      () => load(`${envs}image-pull-requests: together\n`),
      (error: unknown) =>
        error instanceof UserError &&
        error.location?.line === 4 &&
        /`image-pull-requests:` must be `per-environment` or `grouped`/.test(error.message),
    );
  });
});
