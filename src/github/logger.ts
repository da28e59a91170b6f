import * as core from '@actions/core';
import type { SourceLocation } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';

/**
 * Log lines and file/line annotations through the runner's workflow commands, through Slipway's
 * masker first: the runner masks what `core.setSecret` registered, but a self-hosted or older
 * runner, or a form of a value it does not know (JSON-escaped), must not be the only defence.
 */
export class ActionsLogger implements Logger {
  private readonly mask: (text: string) => string;

  constructor(mask: (text: string) => string = (text) => text) {
    this.mask = mask;
  }

  info(message: string): void {
    core.info(this.mask(message));
  }

  warn(message: string, location?: SourceLocation): void {
    core.warning(this.mask(message), annotation(location));
  }

  error(message: string, location?: SourceLocation): void {
    core.error(this.mask(message), annotation(location));
  }

  debug(message: string): void {
    core.debug(this.mask(message));
  }

  group<T>(title: string, work: () => Promise<T>): Promise<T> {
    return core.group(this.mask(title), work);
  }
}

function annotation(location: SourceLocation | undefined): core.AnnotationProperties {
  if (!location) return {};
  return { file: location.file, ...(location.line > 0 ? { startLine: location.line } : {}) };
}
