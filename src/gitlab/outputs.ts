/**
 * Where a GitLab job shows results besides the merge request: the job log (stdout) and report
 * files `<env>.md` / `<env>-apply.md` (and `all-environments.md` when one job plans several) in
 * SLIPWAY_REPORT_DIR, kept as the job's artifacts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ApplyResult } from '../core/apply/apply.ts';
import type { Detection } from '../core/detect/detect.ts';
import type { DriftOutcome, JobOutcome, JobOutputs } from '../core/job/types.ts';
import type { Logger } from '../core/ports.ts';
import type { EnvironmentReport } from '../core/report/markdown.ts';
import { applySummary, environmentsSummary, planSummary } from '../core/report/summary.ts';
import { planAsText } from '../core/report/text.ts';
import type { SecretMasker } from '../core/secrets.ts';

export interface GitLabOutputOptions {
  readonly stdout: (text: string) => void;
  readonly logger: Logger;
  readonly masker: SecretMasker;
  /** Folder for `<env>.md` plan and apply reports (the job's artifacts). */
  readonly reportDir: string;
  readonly projectDir: string | undefined;
  readonly jobUrl: string | undefined;
  readonly runUrl: string;
}

export class GitLabOutputs implements JobOutputs {
  readonly #o: GitLabOutputOptions;

  constructor(options: GitLabOutputOptions) {
    this.#o = options;
  }

  detected(detection: Detection): Promise<void> {
    this.#o.stdout(`${JSON.stringify(detection)}\n`);
    return Promise.resolve();
  }

  planned(report: EnvironmentReport): Promise<string> {
    const { masker, logger } = this.#o;
    if (report.plan) this.#o.stdout(masker.mask(planAsText(report.plan, true)));
    else if (report.failure) logger.error(`${report.environment}: ${report.failure}`);
    const file = this.#write(`${report.environment}.md`, planSummary(report));
    logger.info(`full plan: ${path.relative(this.#o.projectDir ?? process.cwd(), file)}`);
    return Promise.resolve(this.#artifactUrl(file) ?? this.#o.runUrl);
  }

  applied(env: string, result: ApplyResult | undefined): Promise<void> {
    if (result) {
      this.#write(`${env}-apply.md`, applySummary(result));
      this.#o.stdout(this.#o.masker.mask(`${applySummary(result)}\n`));
    }
    return Promise.resolve();
  }

  driftChecked(outcomes: readonly DriftOutcome[]): Promise<void> {
    const names = (state: DriftOutcome['state']): string[] =>
      outcomes.filter((o) => o.state === state).map((o) => o.environment);
    this.#o.stdout(`${JSON.stringify({ drifted: names('drifted'), unchecked: names('unchecked') })}\n`);
    return Promise.resolve();
  }

  finished(outcome: JobOutcome): Promise<void> {
    // Several environments in one job: read together once all are planned.
    const together = outcome.mode === 'plan' ? environmentsSummary(outcome.reports) : '';
    if (together) this.#write('all-environments.md', together);
    return Promise.resolve();
  }

  #write(name: string, text: string): string {
    mkdirSync(this.#o.reportDir, { recursive: true });
    const file = path.join(this.#o.reportDir, name);
    writeFileSync(file, this.#o.masker.mask(text));
    return file;
  }

  /** Where the job's artifacts serve a report file, when the job URL and the folder allow a link. */
  #artifactUrl(file: string): string | undefined {
    const { jobUrl, projectDir } = this.#o;
    if (!jobUrl || !projectDir) return undefined;
    const relative = path.relative(projectDir, file);
    if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
    return `${jobUrl}/artifacts/file/${relative.split(path.sep).map(encodeURIComponent).join('/')}`;
  }
}
