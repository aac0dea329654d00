/**
 * Files written so that a reader (or a crash) never sees half of one: the
 * content goes to a temporary file beside the target, which is then renamed
 * over it in one step. Large outputs stream through `AtomicFileWriter`.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${randomBytes(4).toString('hex')}`);
}

export function writeFileAtomic(target: string, content: string): void {
  const temp = tempPathFor(target);
  try {
    writeFileSync(temp, content, { flush: true });
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** A streamed file that appears under its name only on `commit`; `abort` leaves nothing behind. */
export class AtomicFileWriter {
  private readonly temp: string;
  private readonly stream: WriteStream;
  private failure: Error | null = null;

  constructor(readonly target: string) {
    this.temp = tempPathFor(target);
    this.stream = createWriteStream(this.temp, { flags: 'wx' });
    this.stream.on('error', (error) => {
      this.failure = error;
    });
  }

  /** Writes a chunk, waiting when the stream's buffer is full so memory stays bounded. */
  async write(chunk: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        this.stream.once('error', onError);
        this.stream.once('drain', () => {
          this.stream.off('error', onError);
          resolve();
        });
      });
    }
  }

  async commit(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
    if (this.failure) {
      rmSync(this.temp, { force: true });
      throw this.failure;
    }
    renameSync(this.temp, this.target);
  }

  async abort(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    rmSync(this.temp, { force: true });
  }
}
