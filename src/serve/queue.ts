/**
 * Admission and scheduling of OCR jobs: at most `concurrency` jobs run at once, at most `queue`
 * more wait (first come, first served), and anything beyond that is turned away at the door
 * (HTTP 503) before its upload is read.
 */

export class QueueFullError extends Error {
  constructor(readonly retryAfterS: number) {
    super("the server is busy: too many requests are waiting");
    this.name = "QueueFullError";
  }
}

/** A place in line, taken when a request is admitted and given back when it is done. */
export interface Ticket {
  /** Waits for a run slot; rejects with the signal's reason when it is aborted first. */
  start(signal?: AbortSignal): Promise<void>;
  /** Leaves the line or gives the slot back; safe to call more than once. */
  done(): void;
}

export interface QueueStats {
  /** Jobs running now. */
  running: number;
  /** Jobs admitted and not yet running (uploading, or waiting for a slot). */
  waiting: number;
  concurrency: number;
  /** Most jobs that may wait. */
  queue: number;
}

export class JobQueue {
  private running = 0;
  private admitted = 0;
  private readonly waiters: Array<{ resolve: () => void }> = [];
  /** A running mean of job durations in seconds, for Retry-After. */
  private meanJobS = 5;

  constructor(
    readonly concurrency: number,
    readonly queue: number,
  ) {
    if (!(concurrency >= 1)) throw new RangeError("concurrency must be at least 1");
    if (!(queue >= 0)) throw new RangeError("queue must be 0 or more");
  }

  stats(): QueueStats {
    return { running: this.running, waiting: this.admitted - this.running, concurrency: this.concurrency, queue: this.queue };
  }

  /** Seconds a client turned away should wait before trying again: roughly the time for the line ahead to clear. */
  retryAfterS(): number {
    const ahead = this.admitted - this.running + 1;
    return Math.min(300, Math.max(1, Math.ceil((this.meanJobS * ahead) / this.concurrency)));
  }

  /** A ticket, or a QueueFullError when every run slot and every waiting place is taken. */
  enter(): Ticket {
    if (this.admitted >= this.concurrency + this.queue) throw new QueueFullError(this.retryAfterS());
    this.admitted++;
    let state: "waiting" | "running" | "done" = "waiting";
    let startedAt = 0;
    const waiter = { resolve: () => {} };
    return {
      start: (signal) => {
        if (state !== "waiting") return Promise.resolve();
        signal?.throwIfAborted();
        const run = () => {
          state = "running";
          this.running++;
          startedAt = performance.now();
        };
        if (this.running < this.concurrency && this.waiters.length === 0) {
          run();
          return Promise.resolve();
        }
        return new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            const i = this.waiters.indexOf(waiter);
            if (i >= 0) this.waiters.splice(i, 1);
            reject(signal?.reason);
          };
          waiter.resolve = () => {
            signal?.removeEventListener("abort", onAbort);
            run();
            resolve();
          };
          signal?.addEventListener("abort", onAbort, { once: true });
          this.waiters.push(waiter);
        });
      },
      done: () => {
        if (state === "done") return;
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        if (state === "running") {
          this.running--;
          const s = (performance.now() - startedAt) / 1000;
          this.meanJobS = this.meanJobS * 0.8 + s * 0.2;
        }
        state = "done";
        this.admitted--;
        this.next();
      },
    };
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiters.length) this.waiters.shift()!.resolve();
  }
}
