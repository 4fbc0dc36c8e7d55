/**
 * A model-input buffer reused from run to run. A page's detector input is 4–5 MB and each line
 * crop a few hundred KB; allocated afresh for every run, those blocks are what fragmented the C heap
 * (once a page-sized buffer has been freed, glibc serves everything below that size from its heap,
 * not from mmap): over 40 receipts and 2 book pages, reusing them took ~25 MB off the peak.
 */
export class Scratch {
  private buffer = new Float32Array(0);
  private lent = false;

  /**
   * Lends `use` the first `length` floats, zeroed; a second user while it is lent gets a buffer of
   * its own (the work of one lane is sequential, but an engine may read two pages at once).
   */
  async use<T>(length: number, use: (data: Float32Array) => Promise<T>): Promise<T> {
    if (this.lent) return use(new Float32Array(length));
    this.lent = true;
    try {
      if (this.buffer.length < length) this.buffer = new Float32Array(length);
      const data = this.buffer.subarray(0, length);
      data.fill(0);
      return await use(data);
    } finally {
      this.lent = false;
    }
  }
}
