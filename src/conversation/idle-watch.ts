/**
 * Counts the caller's silence once the bot has finished: after `afterMs` of it the conversation
 * says its idle prompt, and after `prompts` unanswered prompts it ends the call. Anything that
 * happens on the line (the caller speaks, the bot speaks) stops the count; the conversation
 * starts it again when the line is quiet.
 */
export interface IdleOptions {
  /** Silence before a prompt; 0 turns the watch off. */
  afterMs: number;
  /** Prompts before the call is ended. */
  prompts: number;
}

export class IdleWatch {
  private timer: NodeJS.Timeout | undefined;
  private said = 0;

  /** `onIdle` gets the number of prompts said since the caller last answered. */
  constructor(
    private readonly opts: IdleOptions,
    private readonly onIdle: (promptsSaid: number) => void,
  ) {}

  get enabled(): boolean {
    return this.opts.afterMs > 0;
  }

  /** The line is quiet from now: count (again) from zero. */
  quiet(): void {
    if (!this.enabled) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onIdle(this.said);
    }, this.opts.afterMs);
  }

  /** Something is happening on the line: stop counting. */
  busy(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A prompt was said. */
  prompted(): void {
    this.said++;
  }

  /** The caller answered: the prompts start over. */
  answered(): void {
    this.said = 0;
  }

  /** True when the next idle moment should end the call rather than prompt. */
  get exhausted(): boolean {
    return this.said >= this.opts.prompts;
  }

  close(): void {
    this.busy();
  }
}
