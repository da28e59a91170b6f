// The CLI's command line: what each command accepts, and the message for what it does not.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseArgs, type Command, type CommonOptions } from '../../src/cli/args.ts';
import { UserError } from '../../src/core/errors.ts';

const DEFAULTS: CommonOptions = {
  repo: '.',
  config: undefined,
  kubeconfig: undefined,
  context: undefined,
  concurrency: undefined,
};

/** Asserts a usage error whose message contains `text` and whose hint says what to do. */
function assertUsage(argv: string[], text: string | RegExp, hint = /slipway --help/): void {
  assert.throws(
    () => parseArgs(argv),
    (error: unknown) => {
      assert.ok(error instanceof UserError, `not a UserError: ${String(error)}`);
      assert.equal(error.kind, 'usage');
      if (typeof text === 'string') assert.ok(error.message.includes(text), error.message);
      else assert.match(error.message, text);
      assert.match(error.hint ?? '', hint);
      return true;
    },
    `expected a usage error for ${argv.join(' ')}`,
  );
}

describe('commands', () => {
  test('detect needs --base and --head', () => {
    assert.deepEqual(parseArgs(['detect', '--base', 'origin/main', '--head', 'HEAD']), {
      name: 'detect',
      common: DEFAULTS,
      base: 'origin/main',
      head: 'HEAD',
    });
    assertUsage(['detect', '--head', 'HEAD'], '`slipway detect` needs --base');
    assertUsage(['detect', '--base', 'main'], '`slipway detect` needs --head');
  });

  test('render needs --env', () => {
    assert.deepEqual(parseArgs(['render', '--env', 'prod']), {
      name: 'render',
      common: DEFAULTS,
      env: 'prod',
    });
    assertUsage(['render'], '`slipway render` needs --env');
  });

  test('validate takes an optional --env and --base', () => {
    assert.deepEqual(parseArgs(['validate']), {
      name: 'validate',
      common: DEFAULTS,
      env: undefined,
      base: undefined,
    });
    assert.deepEqual(parseArgs(['validate', '--env', 'dev', '--base', 'main']), {
      name: 'validate',
      common: DEFAULTS,
      env: 'dev',
      base: 'main',
    });
  });

  test('diff: text by default, markdown or json on request, --exit-code', () => {
    assert.deepEqual(parseArgs(['diff']), {
      name: 'diff',
      common: DEFAULTS,
      env: undefined,
      format: 'text',
      exitCode: false,
    });
    const json = parseArgs(['diff', '--env', 'prod', '--format', 'json', '--exit-code']);
    assert.deepEqual(json, { name: 'diff', common: DEFAULTS, env: 'prod', format: 'json', exitCode: true });
    assert.equal((parseArgs(['diff', '--format', 'markdown']) as { format: string }).format, 'markdown');
    assertUsage(['diff', '--format', 'yaml'], '--format must be text, markdown or json, not "yaml"');
  });

  test('apply needs --env; prunes and waits by default; switches for the rest', () => {
    assert.deepEqual(parseArgs(['apply', '--env', 'prod']), {
      name: 'apply',
      common: DEFAULTS,
      env: 'prod',
      dryRun: false,
      prune: true,
      timeoutSeconds: undefined,
      commit: undefined,
      force: false,
    });
    assert.deepEqual(
      parseArgs([
        'apply',
        '--env',
        'prod',
        '--dry-run',
        '--no-prune',
        '--force',
        '--commit',
        'abc123',
        '--timeout',
        '10m',
      ]),
      {
        name: 'apply',
        common: DEFAULTS,
        env: 'prod',
        dryRun: true,
        prune: false,
        timeoutSeconds: 600,
        commit: 'abc123',
        force: true,
      },
    );
    assertUsage(['apply', '--dry-run'], '`slipway apply` needs --env');
  });

  test('init takes --force', () => {
    assert.deepEqual(parseArgs(['init']), { name: 'init', common: DEFAULTS, force: false });
    assert.deepEqual(parseArgs(['init', '--force']), { name: 'init', common: DEFAULTS, force: true });
  });

  test('help and version', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']])
      assert.deepEqual(parseArgs(argv), { name: 'help', topic: undefined });
    assert.deepEqual(parseArgs(['help', 'apply']), { name: 'help', topic: 'apply' });
    assert.deepEqual(parseArgs(['--version']), { name: 'version' });
    assert.deepEqual(parseArgs(['version']), { name: 'version' });
  });

  test('an unknown command is named in the error', () => {
    assertUsage(['plan', '--env', 'prod'], 'unknown command "plan"');
    assertUsage(['--env', 'prod'], 'unknown command "--env"');
  });
});

describe('options', () => {
  test('common options work on every command', () => {
    const common = [
      '--repo',
      '/src/deploy',
      '--config',
      'ops/slipway.yaml',
      '--kubeconfig',
      '/tmp/kc',
      '--context',
      'kind-a',
      '--concurrency',
      '4',
    ];
    const expected: CommonOptions = {
      repo: '/src/deploy',
      config: 'ops/slipway.yaml',
      kubeconfig: '/tmp/kc',
      context: 'kind-a',
      concurrency: 4,
    };
    const commands: string[][] = [
      ['detect', '--base', 'a', '--head', 'b'],
      ['render', '--env', 'prod'],
      ['validate'],
      ['diff'],
      ['apply', '--env', 'prod'],
      ['init'],
    ];
    for (const argv of commands) {
      const command = parseArgs([...argv, ...common]);
      assert.ok('common' in command, argv[0]);
      assert.deepEqual(command.common, expected, argv[0]);
    }
  });

  test('--opt=value works like --opt value, and the value may contain "="', () => {
    assert.deepEqual(
      parseArgs(['detect', '--base=main', '--head=feature/x']),
      parseArgs(['detect', '--base', 'main', '--head', 'feature/x']),
    );
    const command = parseArgs([
      'render',
      '--env=prod',
      '--context=arn:aws:eks:eu-west-1:1:cluster/a=b',
    ]) as Extract<Command, { name: 'render' }>;
    assert.equal(command.common.context, 'arn:aws:eks:eu-west-1:1:cluster/a=b');
    assert.equal(command.env, 'prod');
  });

  test('a value that looks like an option is only taken in the = form', () => {
    assertUsage(['render', '--env'], 'option --env needs a value');
    assertUsage(['render', '--env', '--repo', '.'], 'option --env needs a value');
    assert.equal((parseArgs(['render', '--env=--odd']) as { env: string }).env, '--odd');
  });

  test('a switch given a value is refused rather than silently switched on', () => {
    // `--force=false` must not force, `--no-prune=false` must not skip pruning.
    assertUsage(['apply', '--env', 'prod', '--force=false'], 'option --force takes no value');
    assertUsage(['apply', '--env', 'prod', '--no-prune=false'], 'option --no-prune takes no value');
    assertUsage(['apply', '--env', 'prod', '--dry-run=true'], 'option --dry-run takes no value');
    assertUsage(['diff', '--exit-code=0'], 'option --exit-code takes no value');
  });

  test('unknown options and stray arguments are named', () => {
    assertUsage(['render', '--env', 'prod', '--verbose'], 'unknown option "--verbose"');
    assertUsage(['render', '--env', 'prod', '-v'], 'unknown option "-v"');
    assertUsage(['render', '--env=prod', '--namespace=x'], 'unknown option "--namespace"');
    assertUsage(['render', 'prod'], 'unexpected argument "prod"');
  });

  test('an option of another command is refused with the command named', () => {
    assertUsage(['render', '--env', 'prod', '--force'], 'option --force does not apply to `slipway render`');
    assertUsage(['detect', '--env', 'prod'], 'option --env does not apply to `slipway detect`');
    assertUsage(['init', '--dry-run'], 'option --dry-run does not apply to `slipway init`');
    assertUsage(['validate', '--format', 'json'], 'option --format does not apply to `slipway validate`');
    assertUsage(['diff', '--timeout', '5m'], 'option --timeout does not apply to `slipway diff`');
    assertUsage(
      ['apply', '--env', 'prod', '--exit-code'],
      'option --exit-code does not apply to `slipway apply`',
    );
  });

  test('--concurrency is a whole number from 1 to 256', () => {
    for (const ok of ['1', '16', '256'])
      assert.equal(
        (parseArgs(['diff', '--concurrency', ok]) as { common: CommonOptions }).common.concurrency,
        Number(ok),
      );
    for (const bad of ['0', '257', '-3', '1.5', 'many', ''])
      assertUsage(['diff', `--concurrency=${bad}`], '--concurrency must be a whole number from 1 to 256');
  });

  test('--timeout takes Go-style durations', () => {
    const seconds = (text: string): number | undefined =>
      (parseArgs(['apply', '--env', 'prod', '--timeout', text]) as { timeoutSeconds: number | undefined })
        .timeoutSeconds;
    assert.equal(seconds('90s'), 90);
    assert.equal(seconds('5m'), 300);
    assert.equal(seconds('1h30m'), 5400);
    assert.equal(seconds('1.5m'), 90);
    assert.equal(seconds('500ms'), 0.5);
    assert.equal(seconds('2h0m10s'), 7210);
    for (const bad of ['5', '5 m', '5minutes', '-1s', '1d', 'm', ' '])
      assertUsage(
        ['apply', '--env', 'prod', `--timeout=${bad}`],
        `invalid duration "${bad}"`,
        /90s, 5m or 1h30m/,
      );
  });

  test('--help on any command is help for that command, before any other check', () => {
    for (const command of ['detect', 'render', 'validate', 'diff', 'apply', 'init']) {
      assert.deepEqual(parseArgs([command, '--help']), { name: 'help', topic: command });
      assert.deepEqual(parseArgs([command, '-h']), { name: 'help', topic: command });
    }
    // Required options may be missing when asking for help.
    assert.deepEqual(parseArgs(['apply', '--dry-run', '--help']), { name: 'help', topic: 'apply' });
  });
});
