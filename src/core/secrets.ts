/**
 * A masker for values that must never be printed: tokens, kubeconfig keys, Secret values seen in
 * this run. Each value is also caught in its base64 and URL-encoded forms.
 */
export class SecretMasker {
  private readonly values = new Set<string>();

  add(value: string | undefined): void {
    if (!value || value.length < 4) return; // too short to mask without destroying ordinary text
    for (const form of [value, Buffer.from(value, 'utf8').toString('base64'), encodeURIComponent(value)])
      this.values.add(form);
  }

  mask(text: string): string {
    let out = text;
    for (const value of [...this.values].sort((a, b) => b.length - a.length))
      out = out.split(value).join('***');
    return out;
  }

  get all(): string[] {
    return [...this.values];
  }
}
