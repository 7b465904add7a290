// What S3 lists for a set of keys, computed from the keys alone (independently of the walker):
// shared by the walker's unit tests and the listing e2e tests.

export const utf8Cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
export const utf8Sort = (xs: Iterable<string>) => [...xs].sort(utf8Cmp);

export interface ListingModel {
  contents: string[];
  prefixes: string[];
  /** Contents and common prefixes in listing order, tagged "K:" (key) or "P:" (prefix). */
  entries: string[];
  /** The same, untagged: what a V1 marker or a page boundary can name. */
  merged: string[];
}

/** A common prefix is listed iff it sorts after startAfter; an empty startAfter is none. */
export function listingModel(keys: string[], o: { prefix?: string; delimiter?: string; startAfter?: string } = {}): ListingModel {
  const prefix = o.prefix ?? "";
  const out: ListingModel = { contents: [], prefixes: [], entries: [], merged: [] };
  for (const k of utf8Sort(keys)) {
    if (!k.startsWith(prefix)) continue;
    let cp: string | undefined;
    if (o.delimiter) {
      const at = k.indexOf(o.delimiter, prefix.length);
      if (at >= 0) cp = k.slice(0, at + o.delimiter.length);
    }
    const item = cp ?? k;
    if (o.startAfter && utf8Cmp(item, o.startAfter) <= 0) continue;
    if (cp !== undefined) {
      if (out.prefixes[out.prefixes.length - 1] === cp) continue;
      out.prefixes.push(cp);
      out.entries.push("P:" + cp);
    } else {
      out.contents.push(k);
      out.entries.push("K:" + k);
    }
    out.merged.push(item);
  }
  return out;
}
