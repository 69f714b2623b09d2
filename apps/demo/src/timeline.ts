/**
 * The demo's output: timestamped lines, a progress indicator while it waits (only on a TTY; plain
 * lines otherwise) and the closing table. Everything goes through `write`, so tests can capture it.
 */
export interface TimelineOptions {
  write?: (text: string) => void;
  /** Draw progress bars with carriage returns. Default: whether stdout is a TTY. */
  tty?: boolean;
  now?: () => number;
}

export class Timeline {
  readonly #write: (text: string) => void;
  readonly #tty: boolean;
  readonly #now: () => number;
  readonly #start: number;
  #step = 0;

  constructor(opts: TimelineOptions = {}) {
    this.#write = opts.write ?? ((t) => void process.stdout.write(t));
    this.#tty = opts.tty ?? process.stdout.isTTY === true;
    this.#now = opts.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  get elapsedMs(): number {
    return this.#now() - this.#start;
  }

  #stamp(): string {
    return `[${(this.elapsedMs / 1000).toFixed(1).padStart(5)}s]`;
  }

  line(text: string): void {
    this.#write(`${this.#stamp()} ${text}\n`);
  }

  step(title: string): void {
    this.#step += 1;
    this.#write(
      `\n${this.#stamp()} ${this.#tty ? '\x1b[1m' : ''}${this.#step}. ${title}${this.#tty ? '\x1b[0m' : ''}\n`,
    );
  }

  info(text: string): void {
    this.line(`   ${text}`);
  }

  /**
   * Shows `label` with a progress indicator until `work` settles. `progress()` returns a fraction
   * (0..1) and a short text (e.g. "12/25 logins", "2.1/3.0 s"). Without a TTY: one line before, one after.
   */
  async wait<T>(label: string, work: Promise<T>, progress: () => { fraction: number; text: string }): Promise<T> {
    if (!this.#tty) {
      this.line(`   … ${label}`);
      const out = await work;
      this.line(`   … done (${progress().text})`);
      return out;
    }
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let i = 0;
    const draw = () => {
      const p = progress();
      const width = 20;
      const filled = Math.max(0, Math.min(width, Math.round(p.fraction * width)));
      this.#write(
        `\r\x1b[2K${this.#stamp()}    ${frames[i++ % frames.length]} ${label} ▕${'█'.repeat(filled)}${'░'.repeat(width - filled)}▏ ${p.text}`,
      );
    };
    draw();
    const timer = setInterval(draw, 100);
    try {
      return await work;
    } finally {
      clearInterval(timer);
      this.#write(`\r\x1b[2K${this.#stamp()}    ✓ ${label} (${progress().text})\n`);
    }
  }

  /** Waits `ms` with a countdown. */
  sleep(label: string, ms: number): Promise<void> {
    const t0 = this.#now();
    return this.wait(label, new Promise<void>((resolve) => setTimeout(resolve, ms)), () => {
      const done = Math.min(ms, this.#now() - t0);
      return { fraction: done / ms, text: `${(done / 1000).toFixed(1)}/${(ms / 1000).toFixed(1)} s` };
    });
  }

  raw(text: string): void {
    this.#write(text);
  }
}

/** A markdown-style table, columns padded for a terminal. */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [fmt(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(fmt)].join('\n');
}
