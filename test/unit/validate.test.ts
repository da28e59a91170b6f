import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseManifests, type Finding, type Manifest } from '../../src/core/yaml/manifest.ts';
import { dangerLint, validateManifests } from '../../src/core/validate/validate.ts';

/** Parses YAML that must be well-formed; validation is what is under test. */
function manifests(text: string, file = 'clusters/prod/app.yaml'): Manifest[] {
  const parsed = parseManifests(text, file);
  assert.deepEqual(parsed.findings, [], 'the test input must parse cleanly');
  return parsed.manifests;
}

function rules(findings: readonly Finding[]): string[] {
  return findings.map((f) => f.rule);
}

function object(kind: string, name: string, extra = '', apiVersion = 'v1'): string {
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${JSON.stringify(name)}\n${extra}`;
}

describe('names', () => {
  test('names that are not DNS subdomains are errors on the line of the name', () => {
    for (const name of ['Web', 'web_app', '-web', 'web-', 'web..app', 'a'.repeat(254)]) {
      const findings = validateManifests(manifests(`# a ConfigMap\n${object('ConfigMap', name)}`));
      assert.deepEqual(rules(findings), ['invalid-name'], `"${name}" should be refused`);
      assert.equal(findings[0]?.location.line, 5);
      assert.match(findings[0].message, /DNS subdomain/);
    }
  });

  test('dotted names up to 253 characters are fine for most kinds', () => {
    for (const name of ['web', 'web.v2', 'a1-b2.c3', 'a'.repeat(253)]) {
      assert.deepEqual(
        validateManifests(manifests(object('ConfigMap', name))),
        [],
        `"${name}" should be accepted`,
      );
    }
  });

  test('Services and Namespaces need DNS labels: no dots, at most 63 characters', () => {
    for (const [kind, name] of [
      ['Service', 'web.v2'],
      ['Service', 'a'.repeat(64)],
      ['Service', '1-web'.padEnd(64, 'x')],
      ['Namespace', 'team.a'],
    ] as const) {
      const findings = validateManifests(manifests(object(kind, name)));
      assert.deepEqual(rules(findings), ['invalid-name'], `${kind} "${name}"`);
      assert.match(findings[0]!.message, /must be a DNS label/);
    }
    assert.deepEqual(validateManifests(manifests(object('Service', 'a'.repeat(63)))), []);
    assert.deepEqual(validateManifests(manifests(object('Namespace', 'team-a'))), []);
  });

  test('RBAC names may hold colons and capitals but not "/" or "%"', () => {
    const rbac = 'rbac.authorization.k8s.io/v1';
    assert.deepEqual(
      validateManifests(manifests(object('ClusterRole', 'system:controller:Web', '', rbac))),
      [],
    );
    const slash = validateManifests(manifests(object('ClusterRole', 'team/admin', '', rbac)));
    assert.deepEqual(rules(slash), ['invalid-name']);
    assert.deepEqual(rules(validateManifests(manifests(object('Role', '..', '  namespace: shop\n', rbac)))), [
      'invalid-name',
    ]);
  });

  test('an invalid namespace is an error on its line', () => {
    const findings = validateManifests(
      manifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: Team_A\n'),
    );
    assert.deepEqual(rules(findings), ['invalid-namespace']);
    assert.equal(findings[0]?.location.line, 5);
  });
});

describe('duplicates', () => {
  test('the same object in two files is an error naming both places', () => {
    const first = manifests(
      `${object('ConfigMap', 'settings')}---\n${object('ConfigMap', 'other')}`,
      'clusters/prod/a.yaml',
    );
    const second = manifests(`# again\n\n${object('ConfigMap', 'settings')}`, 'clusters/prod/sub/b.yaml');
    const findings = validateManifests([...first, ...second]);
    assert.deepEqual(rules(findings), ['duplicate-object']);
    assert.deepEqual(findings[0]?.location, { file: 'clusters/prod/sub/b.yaml', line: 3 });
    assert.match(
      findings[0].message,
      /ConfigMap settings is defined twice: here and at clusters\/prod\/a\.yaml:1/,
    );
  });

  test('the same object under two API versions is still one object', () => {
    const findings = validateManifests([
      ...manifests(
        object('HorizontalPodAutoscaler', 'web', '  namespace: shop\n', 'autoscaling/v1'),
        'a.yaml',
      ),
      ...manifests(
        object('HorizontalPodAutoscaler', 'web', '  namespace: shop\n', 'autoscaling/v2'),
        'b.yaml',
      ),
    ]);
    assert.deepEqual(rules(findings), ['duplicate-object']);
    assert.match(findings[0]!.message, /a\.yaml:1/);
  });

  test('the same name in another namespace or of another kind is not a duplicate', () => {
    const findings = validateManifests(
      manifests(
        [
          object('ConfigMap', 'web', '  namespace: a\n'),
          object('ConfigMap', 'web', '  namespace: b\n'),
          object('Secret', 'web', '  namespace: a\n'),
          object('Deployment', 'web', '  namespace: a\n', 'apps/v1'),
        ].join('---\n'),
      ),
    );
    assert.deepEqual(findings, []);
  });
});

describe('scope', () => {
  test('a namespace on a ClusterRole or a Namespace is a warning on the namespace line (kubectl ignores it)', () => {
    const findings = validateManifests(
      manifests(
        `${object('ClusterRole', 'reader', '  namespace: shop\n', 'rbac.authorization.k8s.io/v1')}---\n${object('Namespace', 'shop', '  namespace: default\n')}`,
      ),
    );
    assert.deepEqual(rules(findings), ['namespace-on-cluster-scoped', 'namespace-on-cluster-scoped']);
    assert.deepEqual(
      findings.map((f) => f.location.line),
      [5, 11],
    );
    assert.deepEqual(
      findings.map((f) => f.severity),
      ['warning', 'warning'],
    );
    assert.match(
      findings[0]!.message,
      /ClusterRole is cluster-scoped: its metadata\.namespace "shop" is ignored/,
    );
  });

  test('a custom kind defined as cluster-scoped by a CRD in the same render is checked too', () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Cluster
  names: {kind: Widget, plural: widgets}
`;
    const widget = object('Widget', 'w1', '  namespace: shop\n', 'example.com/v1');
    assert.deepEqual(rules(validateManifests(manifests(`${crd}---\n${widget}`))), [
      'namespace-on-cluster-scoped',
    ]);
    assert.deepEqual(
      validateManifests(manifests(`${crd.replace('Cluster', 'Namespaced')}---\n${widget}`)),
      [],
    );
    assert.equal(
      rules(validateManifests(manifests(`${crd}---\n${widget}`)))[0],
      'namespace-on-cluster-scoped',
    );
  });

  test('two cluster-scoped objects that differ only in the ignored namespace are one object, defined twice', () => {
    const role = (ns: string): string =>
      object('ClusterRole', 'reader', `  namespace: ${ns}\n`, 'rbac.authorization.k8s.io/v1');
    const found = validateManifests(manifests(`${role('a')}---\n${role('b')}`));
    assert.ok(found.some((f) => f.rule === 'duplicate-object' && f.severity === 'error'));
  });
});

describe('size', () => {
  test('an object over 1.5 MiB is an error; one just under is fine', () => {
    const big = validateManifests(
      manifests(object('ConfigMap', 'big', `data:\n  blob: ${'x'.repeat(1.6 * 1024 * 1024)}\n`)),
    );
    assert.deepEqual(rules(big), ['object-too-large']);
    assert.match(
      big[0]?.message ?? '',
      /ConfigMap big is 1\.6\d MiB; the API server refuses objects over 1\.5 MiB/,
    );
    assert.deepEqual(
      validateManifests(
        manifests(object('ConfigMap', 'fits', `data:\n  blob: ${'x'.repeat(1.4 * 1024 * 1024)}\n`)),
      ),
      [],
    );
  });
});

describe('Secret data', () => {
  const PLANTED = 'pl4nted-Secret-Value!do-not-print';

  test('a value that is not base64 is an error that names the key and never the value', () => {
    const secret = manifests(
      object(
        'Secret',
        'db',
        `data:\n  username: YWRtaW4=\n  password: ${PLANTED}\nstringData:\n  note: plain text is fine here\n`,
      ),
    );
    const findings = validateManifests(secret);
    assert.deepEqual(rules(findings), ['secret-data-not-base64']);
    assert.match(
      findings[0]!.message,
      /Secret db data key "password" is not base64; put plain text under stringData/,
    );
    const everything = JSON.stringify(findings);
    assert.ok(!everything.includes(PLANTED), 'the value must not appear in any finding');
    assert.ok(!everything.includes(Buffer.from(PLANTED).toString('base64')));
  });

  test('values the API server would refuse as base64 are caught: missing padding, spaces', () => {
    for (const value of ['YWRtaW4', 'abc', '"YWRt aW4="']) {
      const findings = validateManifests(manifests(object('Secret', 'db', `data:\n  key: ${value}\n`)));
      assert.deepEqual(rules(findings), ['secret-data-not-base64'], `${value} must be refused`);
    }
  });

  test('base64 split over lines, as a block scalar, is fine', () => {
    const long = Buffer.from(
      'a certificate that is long enough to wrap over more than one line of base64',
    ).toString('base64');
    const wrapped = long.match(/.{1,40}/g)!.join('\n    ');
    assert.deepEqual(
      validateManifests(
        manifests(object('Secret', 'tls', `data:\n  cert: |\n    ${wrapped}\n  empty: ""\n`)),
      ),
      [],
    );
  });
});

describe('dangerLint: changes the API server refuses or that destroy data', () => {
  const deployment = (selector: string, replicas = 1): string =>
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: ${replicas}
  selector:
    matchLabels: ${selector}
  template:
    metadata:
      labels: ${selector}
`;

  test('a changed Deployment selector is an error at the selector', () => {
    const findings = dangerLint(
      manifests(deployment('{app: web}')),
      manifests(deployment('{app: web, tier: front}'), 'clusters/prod/web.yaml'),
    );
    assert.deepEqual(rules(findings), ['immutable-selector']);
    assert.equal(findings[0]?.severity, 'error');
    assert.deepEqual(findings[0].location, { file: 'clusters/prod/web.yaml', line: 8 });
    assert.match(findings[0].message, /Deployment\.apps shop\/web: spec\.selector is immutable/);
  });

  test('other Deployment changes, or the same selector written in another key order, are fine', () => {
    assert.deepEqual(
      dangerLint(
        manifests(deployment('{app: web, tier: front}')),
        manifests(deployment('{tier: front, app: web}', 3)),
      ),
      [],
    );
  });

  test('changed StatefulSet volumeClaimTemplates are an error', () => {
    const sts = (size: string): string => `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  selector:
    matchLabels: {app: db}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        resources:
          requests:
            storage: ${size}
`;
    const findings = dangerLint(manifests(sts('1Gi')), manifests(sts('5Gi')));
    assert.deepEqual(rules(findings), ['immutable-volume-claim-templates']);
    assert.equal(findings[0]?.location.line, 8);
    assert.deepEqual(dangerLint(manifests(sts('1Gi')), manifests(sts('1Gi'))), []);
  });

  test("a changed Job template is an error; the Job's other fields are not", () => {
    const job = (image: string, backoff: number): string => `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  backoffLimit: ${backoff}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: ${image}
`;
    const findings = dangerLint(manifests(job('app:1', 1)), manifests(job('app:2', 1)));
    assert.deepEqual(rules(findings), ['immutable-job-template']);
    assert.equal(findings[0]?.location.line, 7);
    assert.match(findings[0].message, /give the changed Job a new name/);
    assert.deepEqual(dangerLint(manifests(job('app:1', 1)), manifests(job('app:1', 4))), []);
  });

  test('removing a PersistentVolumeClaim or a Namespace is a warning naming the file it was in', () => {
    const previous = [
      ...manifests(object('PersistentVolumeClaim', 'data', '  namespace: shop\n'), 'clusters/prod/pvc.yaml'),
      ...manifests(object('Namespace', 'shop'), 'clusters/prod/ns.yaml'),
      ...manifests(object('ConfigMap', 'gone', '  namespace: shop\n'), 'clusters/prod/cm.yaml'),
      ...manifests(object('ConfigMap', 'kept', '  namespace: shop\n'), 'clusters/prod/kept.yaml'),
    ];
    const current = manifests(object('ConfigMap', 'kept', '  namespace: shop\n'), 'clusters/prod/kept.yaml');
    const findings = dangerLint(previous, current);
    assert.deepEqual(
      findings.map((f) => [f.severity, f.rule, f.location.file]),
      [
        ['warning', 'removed-data-holder', 'clusters/prod/pvc.yaml'],
        ['warning', 'removed-data-holder', 'clusters/prod/ns.yaml'],
      ],
    );
    assert.match(
      findings[0]!.message,
      /PersistentVolumeClaim shop\/data was removed from Git: deleting it deletes its volume data/,
    );
    assert.match(
      findings[1]?.message ?? '',
      /Namespace shop was removed from Git: deleting it deletes everything inside it/,
    );
  });

  test('removing a CRD is a warning that its objects would go too', () => {
    const crd = object(
      'CustomResourceDefinition',
      'widgets.example.com',
      'spec:\n  group: example.com\n',
      'apiextensions.k8s.io/v1',
    );
    const findings = dangerLint(manifests(crd, 'crds/widgets.yaml'), []);
    assert.deepEqual(
      findings.map((f) => [f.severity, f.rule]),
      [['warning', 'removed-crd']],
    );
    assert.match(findings[0]!.message, /deleting a CRD deletes every object of its kind/);
    assert.deepEqual(dangerLint(manifests(crd), manifests(crd)), [], 'a CRD that stays is fine');
  });
});
