// What a listing shows of a file beyond its stat (its ETag and checksum type), remembered per
// inode, so that listing a bucket again costs one stat per object instead of a stat plus an
// xattr read (measured: the xattr read was the largest single cost of a 1,000-key page).
//
// Safe with other processes and foreign writers on the same tree: an entry is used only while the
// file's size, mtime and ctime are all unchanged, and every write to a file's data or to its
// xattrs moves its ctime. Timestamps are coarse (a kernel tick, or a second on some file systems),
// so a change in the same tick as the read could keep the ctime; entries are therefore made only
// for files whose ctime was already QUIET_MS old when read. Only valid for a metadata store whose
// records live in the file's own xattrs: a sidecar record can change without touching the file.
import type { StoredChecksum } from "./meta.ts";

export interface ListedFields {
  /** Quoted, as sent. */
  etag: string;
  checksum?: Pick<StoredChecksum, "algorithm" | "type">;
}

interface Entry extends ListedFields {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface FileVersion {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

const QUIET_MS = 3000;
/** About 150 bytes each: 200k entries bound the cache near 30 MiB. */
const MAX_ENTRIES = 200_000;

export class ListedCache {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly maxEntries = MAX_ENTRIES,
    private readonly quietMs = QUIET_MS,
  ) {}

  get(f: FileVersion): ListedFields | undefined {
    const e = this.entries.get(f.ino);
    if (e === undefined) return undefined;
    if (e.size === f.size && e.mtimeMs === f.mtimeMs && e.ctimeMs === f.ctimeMs) return e;
    this.entries.delete(f.ino);
    return undefined;
  }

  /** Remembers `fields` for this version of the file if it has been quiet long enough. */
  set(f: FileVersion, fields: ListedFields, now = Date.now()): void {
    if (!(f.ctimeMs < now - this.quietMs)) return;
    // Oldest first: Map iterates in insertion order, so eviction is FIFO (no reordering on hits,
    // which would cost a delete and an insert per listed object).
    if (this.entries.size >= this.maxEntries && !this.entries.has(f.ino)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(f.ino, { etag: fields.etag, checksum: fields.checksum, size: f.size, mtimeMs: f.mtimeMs, ctimeMs: f.ctimeMs });
  }

  get size(): number {
    return this.entries.size;
  }
}
