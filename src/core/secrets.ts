/**
 * A masker for values that must never be printed: tokens, kubeconfig keys, Secret values seen in
 * this run. Each value is also caught in its base64, URL-encoded and JSON-escaped forms (JSON
 * output is masked after it is serialized, when a quote or backslash is already escaped).
 */
export class SecretMasker {
  private readonly values = new Set<string>();
  /** One alternation of every value, longest first; rebuilt only after `add`. */
  private pattern: RegExp | undefined;

  add(value: string | undefined): void {
    if (!value || value.length < 4) return; // too short to mask without destroying ordinary text
    const forms = [
      value,
      Buffer.from(value, 'utf8').toString('base64'),
      encodeURIComponent(value),
      JSON.stringify(value).slice(1, -1),
    ];
    for (const form of forms) {
      if (!this.values.has(form)) {
        this.values.add(form);
        this.pattern = undefined;
      }
    }
  }

  mask(text: string): string {
    if (this.values.size === 0) return text;
    this.pattern ??= new RegExp(
      [...this.values]
        .sort((a, b) => b.length - a.length)
        .map((value) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, '***');
  }

  get all(): string[] {
    return [...this.values];
  }
}
