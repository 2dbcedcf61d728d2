/**
 * Collects keypad digits into one input: the caller's keys are handed over `timeoutMs` after the
 * last one, or at once on `#`.
 */

export class DtmfCollector {
  private digits = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onInput: (digits: string) => void,
  ) {}

  push(digit: string): void {
    clearTimeout(this.timer);
    if (digit === '#') return this.flush();
    this.digits += digit;
    this.timer = setTimeout(() => this.flush(), this.timeoutMs);
  }

  get pending(): string {
    return this.digits;
  }

  close(): void {
    clearTimeout(this.timer);
    this.digits = '';
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const digits = this.digits;
    this.digits = '';
    if (digits) this.onInput(digits);
  }
}
