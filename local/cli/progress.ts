/** A one-line progress bar on a TTY; on a pipe (CI), a line at every 10 %. */
export class Progress {
  private readonly started = Date.now();
  private lastDecile = -1;
  private failed = 0;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream,
  ) {
    this.update(0);
  }

  update(done: number, last?: 'ok' | 'failed'): void {
    if (last === 'failed') this.failed++;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    const status = `${done}/${this.total} finished${this.failed ? `, ${this.failed} failed` : ''}, ${seconds} s`;
    if (this.stream.isTTY) {
      const width = 30;
      const filled = this.total === 0 ? width : Math.round((done / this.total) * width);
      this.stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${status}  `);
      return;
    }
    const decile = this.total === 0 ? 10 : Math.floor((done / this.total) * 10);
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.stream.write(`progress: ${status}\n`);
    }
  }

  done(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
