// Every workflow the project ships or generates, and action.yml itself, checked with GitHub's own
// workflow parser (@actions/workflow-parser) against the published workflow and action schemas.
// Also keeps README.md, action.yml and the input parser in step with each other.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import '../support/json-imports.ts';
import { load } from 'js-yaml';
import { runInit } from '../../src/cli/init.ts';
import { parseInputs } from '../../src/github/inputs.ts';
import { workflowTemplates } from '../../src/cli/templates.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
// Imported after the hook above is registered (static imports would be linked before it runs).
const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } =
  await import('@actions/workflow-parser');
const { parseAction } = await import('@actions/workflow-parser/actions/action-parser');

async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value && errors.length === 0) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message));
  }
  return errors;
}

describe('shipped workflows are valid GitHub Actions workflows', () => {
  const files = [
    ...readdirSync(path.join(root, '.github', 'workflows')).map((f) => path.join('.github', 'workflows', f)),
    ...readdirSync(path.join(root, 'examples', 'workflows')).map((f) =>
      path.join('examples', 'workflows', f),
    ),
  ];
  for (const file of files) {
    test(file, async () => {
      assert.deepEqual(await workflowErrors(file, readFileSync(path.join(root, file), 'utf8')), []);
    });
  }

  test('the workflow shown in README.md', async () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1] ?? '')
      .filter((b) => /^on:/m.test(b));
    assert.ok(blocks.length >= 1, 'README shows a workflow');
    for (const block of blocks) assert.deepEqual(await workflowErrors('README.yml', block), []);
  });

  test("this repository's workflows pin every action by commit SHA", () => {
    for (const file of readdirSync(path.join(root, '.github', 'workflows'))) {
      const text = readFileSync(path.join(root, '.github', 'workflows', file), 'utf8');
      // Steps only (not comments); `./` is this repository's own action, at the commit under test.
      for (const [, ref] of text.matchAll(/^\s*(?:- )?uses:\s*(\S+)/gm))
        if (!ref?.startsWith('./'))
          assert.match(ref ?? '', /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${file}: ${ref ?? ''}`);
    }
  });

  test('the parser really rejects a broken workflow (the check can fail)', async () => {
    const errors = await workflowErrors(
      'broken.yml',
      'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n',
    );
    assert.ok(errors.length > 0);
  });
});

describe('slipway init', () => {
  test('writes slipway.yaml and valid workflows for the discovered environments', async () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'slipway-init-'));
    try {
      for (const dir of ['clusters/dev', 'clusters/prod'])
        (await import('node:fs')).mkdirSync(path.join(repo, dir), { recursive: true });
      let out = '';
      assert.equal(
        runInit(repo, false, (t) => (out += t)),
        0,
      );
      assert.match(out, /dev \(clusters\/dev\), prod \(clusters\/prod\)/);
      assert.deepEqual(load(readFileSync(path.join(repo, 'slipway.yaml'), 'utf8')), {
        environments: { dev: { path: 'clusters/dev' }, prod: { path: 'clusters/prod' } },
      });
      // Plan, apply, drift, re-sync, and the scheduled image updates (issue 16).
      assert.deepEqual(readdirSync(path.join(repo, '.github', 'workflows')).sort(), [
        'slipway-apply.yml',
        'slipway-drift.yml',
        'slipway-images.yml',
        'slipway-plan.yml',
        'slipway-resync.yml',
      ]);
      for (const file of readdirSync(path.join(repo, '.github', 'workflows'))) {
        const content = readFileSync(path.join(repo, '.github', 'workflows', file), 'utf8');
        assert.deepEqual(await workflowErrors(file, content), [], file);
      }
      assert.match(
        readFileSync(path.join(repo, '.github', 'workflows', 'slipway-drift.yml'), 'utf8'),
        /environment: \[dev, prod\]/,
      );
      // Image updates need no cluster: no kubeconfig, no GitHub Environment (and its secrets).
      assert.doesNotMatch(
        readFileSync(path.join(repo, '.github', 'workflows', 'slipway-images.yml'), 'utf8'),
        /kubeconfig|^\s+environment:/im,
      );
      // Existing files are kept unless --force.
      out = '';
      assert.equal(
        runInit(repo, false, (t) => (out += t)),
        1,
      );
      assert.match(out, /kept slipway.yaml \(exists; --force overwrites\)/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  test('the templates are the examples in examples/workflows', () => {
    for (const [file, text] of Object.entries(workflowTemplates(['beta', 'live']))) {
      assert.equal(text, readFileSync(path.join(root, 'examples', 'workflows', file), 'utf8'), file);
    }
  });
});

describe('action.yml', () => {
  const text = readFileSync(path.join(root, 'action.yml'), 'utf8');
  const action = load(text) as {
    inputs: Record<string, { description: string; default?: string }>;
    outputs: Record<string, { description: string }>;
    runs: { using: string; main: string };
  };
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  test('is a valid action definition for node24 with dist/index.js', () => {
    const parsed = parseAction({ name: 'action.yml', content: text }, new NoOperationTraceWriter());
    assert.deepEqual(
      parsed.context.errors.getErrors().map((e) => e.message),
      [],
    );
    assert.equal(action.runs.using, 'node24');
    assert.equal(action.runs.main, 'dist/index.js');
  });

  test('every input and output is described, and documented in the README', () => {
    for (const [name, input] of Object.entries(action.inputs)) {
      assert.ok(input.description.length > 10, `input ${name} has a description`);
      assert.match(readme, new RegExp(`\\|\\s*\`${name}\`\\s*\\|`), `README documents input ${name}`);
    }
    for (const [name, output] of Object.entries(action.outputs)) {
      assert.ok(output.description.length > 10, `output ${name} has a description`);
      assert.match(readme, new RegExp(`\\|\\s*\`${name}\`\\s*\\|`), `README documents output ${name}`);
    }
  });

  test('the input parser reads exactly the inputs action.yml declares', () => {
    const asked = new Set<string>();
    parseInputs((name) => {
      asked.add(name);
      return action.inputs[name]?.default?.startsWith('${{') ? 'token' : (action.inputs[name]?.default ?? '');
    });
    assert.deepEqual([...asked].sort(), Object.keys(action.inputs).sort());
  });
});
