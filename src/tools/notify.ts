import type { ApplyResult } from '../core/apply/apply.ts';
import { describeRef } from '../core/objects.ts';
import { isSettled } from '../core/health/health.ts';

export interface NotificationTargets {
  readonly slackWebhook: string | undefined;
  readonly webhookUrl: string | undefined;
}

/** What a notification says: counts and object names, never object content or Secret values. */
export function notificationPayload(
  result: ApplyResult,
  commit: string | undefined,
  runUrl: string | undefined,
): Record<string, unknown> {
  const count = (action: string): number => result.outcomes.filter((o) => o.action === action).length;
  return {
    environment: result.environment,
    commit: commit ?? null,
    status: result.ok ? 'success' : 'failure',
    created: count('create'),
    updated: count('update'),
    pruned: count('pruned'),
    failed: result.outcomes.filter((o) => o.error).map((o) => describeRef(o.ref)),
    unhealthy: result.outcomes.filter((o) => !isSettled(o.health)).map((o) => describeRef(o.ref)),
    runUrl: runUrl ?? null,
  };
}

/** Posts to Slack and/or a generic webhook; a failed notification is logged, never fatal. */
export async function notify(
  targets: NotificationTargets,
  payload: Record<string, unknown>,
  warn: (message: string) => void,
): Promise<void> {
  const posts: [string, unknown][] = [];
  if (targets.webhookUrl) posts.push([targets.webhookUrl, payload]);
  if (targets.slackWebhook) {
    const icon = payload.status === 'success' ? ':white_check_mark:' : ':x:';
    const text = `${icon} Slipway ${str(payload.status)} for *${str(payload.environment)}* at ${str(payload.commit).slice(0, 12)}: ${str(payload.created)} created, ${str(payload.updated)} updated, ${str(payload.pruned)} pruned${payload.runUrl ? ` — <${str(payload.runUrl)}|run>` : ''}`;
    posts.push([targets.slackWebhook, { text }]);
  }
  for (const [url, body] of posts) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) warn(`notification to ${new URL(url).host} failed: HTTP ${response.status}`);
    } catch (error) {
      warn(
        `notification to ${new URL(url).host} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

function str(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}
