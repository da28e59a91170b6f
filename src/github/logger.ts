import * as core from '@actions/core';
import type { SourceLocation } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';

/** Log lines and file/line annotations through the runner's workflow commands. */
export class ActionsLogger implements Logger {
  info(message: string): void {
    core.info(message);
  }

  warn(message: string, location?: SourceLocation): void {
    core.warning(message, annotation(location));
  }

  error(message: string, location?: SourceLocation): void {
    core.error(message, annotation(location));
  }

  debug(message: string): void {
    core.debug(message);
  }

  group<T>(title: string, work: () => Promise<T>): Promise<T> {
    return core.group(title, work);
  }
}

function annotation(location: SourceLocation | undefined): core.AnnotationProperties {
  if (!location) return {};
  return { file: location.file, ...(location.line > 0 ? { startLine: location.line } : {}) };
}
