import { formatLocation, type SourceLocation } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';

/** The CLI's log: everything on stderr so stdout stays machine-readable. */
export class StderrLogger implements Logger {
  private readonly write: (text: string) => void;
  private readonly verbose: boolean;
  private readonly mask: (text: string) => string;

  constructor(write: (text: string) => void, verbose: boolean, mask: (text: string) => string = (t) => t) {
    this.write = write;
    this.verbose = verbose;
    this.mask = mask;
  }

  info(message: string): void {
    this.write(`${this.mask(message)}\n`);
  }

  warn(message: string, location?: SourceLocation): void {
    this.write(`warning: ${location ? `${formatLocation(location)}: ` : ''}${this.mask(message)}\n`);
  }

  error(message: string, location?: SourceLocation): void {
    this.write(`error: ${location ? `${formatLocation(location)}: ` : ''}${this.mask(message)}\n`);
  }

  debug(message: string): void {
    if (this.verbose) this.write(`debug: ${this.mask(message)}\n`);
  }

  async group<T>(title: string, work: () => Promise<T>): Promise<T> {
    this.write(`== ${title}\n`);
    return work();
  }
}
