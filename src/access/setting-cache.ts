// A bucket setting parsed once and kept per process. Freshness: at most once a second per bucket
// the stored text is read again and compared, so another process's change is seen within a
// second; this process's own changes are seen at once (forget). The hot path (every request
// reads the bucket's policy) is a map lookup and a clock read.

interface Entry<T> {
  text: string | undefined;
  value: T | undefined;
  checkedAt: number;
}

/** Entries beyond this are dropped wholesale: a bound, not an LRU (buckets are few). */
const MAX_ENTRIES = 10_000;

export class SettingCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly read: (bucket: string) => string | undefined,
    private readonly parse: (text: string, bucket: string) => T,
    private readonly onBroken: (bucket: string, err: unknown) => void,
    private readonly ttlMs = 1000,
  ) {}

  get(bucket: string): T | undefined {
    const now = Date.now();
    const e = this.entries.get(bucket);
    if (e && now - e.checkedAt < this.ttlMs) return e.value;
    const text = this.read(bucket);
    if (e && e.text === text) {
      e.checkedAt = now;
      return e.value;
    }
    let value: T | undefined;
    if (text !== undefined) {
      try {
        value = this.parse(text, bucket);
      } catch (err) {
        this.onBroken(bucket, err);
      }
    }
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(bucket, { text, value, checkedAt: now });
    return value;
  }

  forget(bucket: string): void {
    this.entries.delete(bucket);
  }
}
