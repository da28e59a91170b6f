/**
 * Where results are shown to people: GitHub, GitLab, or the terminal. The engine produces the
 * content; a platform only delivers it. Each method is idempotent where the platform allows it.
 */
import type { SourceLocation } from './errors.ts';

export type AnnotationLevel = 'failure' | 'warning' | 'notice';

export interface Annotation {
  readonly location: SourceLocation;
  readonly level: AnnotationLevel;
  readonly message: string;
  readonly title?: string;
}

export interface CheckReport {
  /** e.g. `slipway / beta` */
  readonly name: string;
  readonly headSha: string;
  readonly conclusion: 'success' | 'failure' | 'neutral';
  readonly title: string;
  /** Markdown, already within the platform's budget. */
  readonly summary: string;
  readonly text?: string;
  readonly annotations: readonly Annotation[];
}

export type DeploymentState =
  'in_progress' | 'success' | 'failure' | 'error' | 'inactive' | 'queued' | 'pending';

export interface DeploymentRecord {
  readonly environment: string;
  readonly sha: string;
  readonly ref: string;
  readonly description: string;
}

export interface ReviewPlatform {
  /** Characters one comment may hold on this platform. */
  readonly commentLimit: number;
  /**
   * Makes the change request carry exactly `bodies.length` comments marked `marker` (a hidden
   * HTML comment), updating existing ones in place, creating missing ones and deleting extras.
   */
  upsertComments(
    changeRequest: number,
    marker: string,
    bodies: readonly string[],
  ): Promise<{ urls: string[] }>;
  /** Bodies of the comments marked `marker`, oldest first (other environments' sections live there). */
  readComments(changeRequest: number, marker: string): Promise<string[]>;
  /**
   * The merged pull/merge request a commit on the deploy branch came from (its merge, squash or
   * rebased commit), or undefined for a direct push.
   */
  changeRequestOf(sha: string): Promise<number | undefined>;
  /** A check run (GitHub) or commit status (GitLab) with annotations on files and lines. */
  reportCheck(report: CheckReport): Promise<void>;
  /**
   * The deployment the CI job itself opened for this environment and commit and has not finished
   * (a GitHub job with `environment:` gets one), to add statuses to instead of creating a second
   * one; undefined when there is none. Platforms whose jobs open none leave this out.
   */
  findJobDeployment?(environment: string, sha: string): Promise<string | undefined>;
  /** Creates a deployment record and returns an id to update. */
  createDeployment(record: DeploymentRecord): Promise<string>;
  setDeploymentState(id: string, state: DeploymentState, description: string, logUrl?: string): Promise<void>;
  setCommitStatus(
    sha: string,
    context: string,
    state: 'pending' | 'success' | 'failure' | 'error',
    description: string,
    targetUrl?: string,
  ): Promise<void>;
  /**
   * Keeps one open issue per `marker`: opens or updates it with `body` when `body` is given,
   * closes it (with a comment) when `body` is undefined. Returns its URL when open.
   */
  syncIssue(marker: string, title: string, body: string | undefined): Promise<string | undefined>;
}
