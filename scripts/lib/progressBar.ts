/** A one-line progress bar on stderr (redrawn in place on a terminal, every 10% otherwise). */
export class ProgressBar {
  private lastPct = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string) {}

  update(done: number, total: number, info = ''): void {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${info}`;
    if (this.tty) {
      process.stderr.write(`\r${line.padEnd(110).slice(0, 140)}`);
    } else {
      const pct = Math.floor(frac * 10);
      if (pct !== this.lastPct) {
        this.lastPct = pct;
        process.stderr.write(line + '\n');
      }
    }
  }

  done(info: string): void {
    process.stderr.write(this.tty ? `\r${`${this.label} ${info}`.padEnd(110)}\n` : `${this.label} ${info}\n`);
  }
}
