/**
 * Requests posted to worker threads and the replies that settle them, by id
 * (src/render/pool.ts, src/render/write-thread.ts). A failure of the thread
 * rejects every request still waiting and every later one.
 */
export class Replies<T> {
  private readonly pending = new Map<number, { resolve: (r: T) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failed?: Error;

  /** A new request: `post` sends it with its id; the promise settles with its reply. */
  request(post: (id: number) => void): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const p = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    post(id);
    return p;
  }

  /** The reply to request `id`: its result, or its error. */
  settle(id: number, reply: { result: T } | { error: Error }): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if ('error' in reply) p?.reject(reply.error);
    else p?.resolve(reply.result);
  }

  fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
