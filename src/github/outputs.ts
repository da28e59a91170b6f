/**
 * Where the action shows results besides the pull request: the job summary, a plan file, and the
 * step outputs (`environments`, `matrix`, `detection`, `has-changes`, `summary`, `diff-file`,
 * `drifted`). Everything written here is masked first.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import type { ApplyResult } from '../core/apply/apply.ts';
import type { Detection } from '../core/detect/detect.ts';
import type { DriftOutcome, JobOutcome, JobOutputs } from '../core/job/types.ts';
import { reportFailed, reportHasChanges } from '../core/job/jobs.ts';
import { escapeInline } from '../core/report/escape.ts';
import type { EnvironmentReport } from '../core/report/markdown.ts';
import { applySummary, environmentsSummary, planSummary } from '../core/report/summary.ts';
import type { SecretMasker } from '../core/secrets.ts';

export class ActionOutputs implements JobOutputs {
  readonly #masker: SecretMasker;
  readonly #tempDir: string;
  readonly #runUrl: string;
  readonly #summaryFile: string | undefined;

  constructor(options: {
    masker: SecretMasker;
    tempDir: string;
    runUrl: string;
    summaryFile: string | undefined;
  }) {
    this.#masker = options.masker;
    this.#tempDir = options.tempDir;
    this.#runUrl = options.runUrl;
    this.#summaryFile = options.summaryFile;
  }

  async detected(detection: Detection): Promise<void> {
    core.setOutput('environments', JSON.stringify(detection.environments));
    core.setOutput('matrix', JSON.stringify({ environment: detection.environments }));
    core.setOutput('detection', JSON.stringify(detection));
    await this.#summary(
      `## Slipway: affected environments\n\n${detection.environments.map((e) => `- **${escapeInline(e)}**: ${(detection.reasons[e] ?? []).map((f) => `\`${escapeInline(f)}\``).join(', ')}`).join('\n') || 'None.'}\n`,
    );
  }

  async planned(report: EnvironmentReport): Promise<string> {
    const summary = this.#masker.mask(planSummary(report));
    await this.#summary(`${summary}\n`);
    const diffFile = path.join(this.#tempDir, `slipway-plan-${report.environment}.md`);
    writeFileSync(diffFile, summary);
    core.setOutput('diff-file', diffFile);
    core.setOutput('has-changes', String(reportHasChanges(report)));
    core.setOutput(
      'summary',
      JSON.stringify({
        environment: report.environment,
        ...(report.plan?.summary ?? {}),
        failed: reportFailed(report),
      }),
    );
    return `${this.#runUrl}#summary`;
  }

  async applied(env: string, result: ApplyResult | undefined): Promise<void> {
    if (!result) return;
    await this.#summary(`${this.#masker.mask(applySummary(result))}\n`);
    const summary = result.plan.summary;
    core.setOutput(
      'summary',
      JSON.stringify({ environment: env, ok: result.ok, writes: result.writes, ...summary }),
    );
    core.setOutput('has-changes', String(summary.create + summary.update + summary.delete > 0));
  }

  driftChecked(outcomes: readonly DriftOutcome[]): Promise<void> {
    core.setOutput(
      'drifted',
      JSON.stringify(outcomes.filter((o) => o.state === 'drifted').map((o) => o.environment)),
    );
    core.setOutput(
      'unchecked',
      JSON.stringify(outcomes.filter((o) => o.state === 'unchecked').map((o) => o.environment)),
    );
    return Promise.resolve();
  }

  async finished(outcome: JobOutcome): Promise<void> {
    if (outcome.mode !== 'detect') core.setOutput('has-changes', String(outcome.changes));
    // Several environments in one job: read together once all are planned.
    const together = outcome.mode === 'plan' ? environmentsSummary(outcome.reports) : '';
    if (together) await this.#summary(this.#masker.mask(together));
  }

  /** Appends to the job summary; runners without one (old GHES, local runs) just skip it. */
  async #summary(markdown: string): Promise<void> {
    if (!this.#summaryFile) {
      core.debug('no GITHUB_STEP_SUMMARY: the job summary is skipped');
      return;
    }
    await core.summary.addRaw(markdown).write();
  }
}
