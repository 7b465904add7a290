import { expect, test } from "bun:test";
import { contentsXml } from "../../src/routes/list.ts";
import { renderXml } from "../../src/xml/index.ts";
import { s3Time } from "../../src/http/response.ts";

// contentsXml renders a page's <Contents> by hand; it must be exactly what the generic renderer
// makes of one object per entry.
type Obj = Parameters<typeof contentsXml>[0][number];
const generic = (objects: readonly Obj[], enc: (s: string) => string, owner?: { ID: string; DisplayName?: string }) =>
  renderXml(
    "R",
    {
      Contents: objects.map((o) => ({
        Key: enc(o.key),
        LastModified: s3Time(o.mtimeMs),
        ETag: o.etag,
        ChecksumAlgorithm: o.checksum?.algorithm,
        ChecksumType: o.checksum?.type,
        Size: o.size,
        StorageClass: "STANDARD",
        Owner: owner,
      })),
    },
    null,
  );
const raw = (objects: readonly Obj[], enc: (s: string) => string, owner?: { ID: string; DisplayName?: string }) =>
  renderXml("R", { "#raw": contentsXml(objects, enc, owner && (() => owner)) }, null);

const OBJECTS: Obj[] = [
  { type: "object", key: "a&b<c>\"d'e\rf", size: 0, mtimeMs: 1_700_000_000_999.9, etag: '"d41d8cd98f00b204e9800998ecf8427e"' },
  { type: "object", key: "a&b2", size: 12345678901, mtimeMs: 1_700_000_000_000, etag: '"0123456789abcdef0123456789abcdef-3"', checksum: { algorithm: "CRC32", type: "COMPOSITE" } },
  { type: "object", key: "é/😀", size: 5, mtimeMs: 1_700_000_001_000.5, etag: '"x"', checksum: { algorithm: "CRC64NVME", type: "FULL_OBJECT" } },
  { type: "object", key: "same-second", size: 5, mtimeMs: 1_700_000_001_400, etag: '"y"' },
  { type: "object", key: "\u0001ctl", size: 1, mtimeMs: 0, etag: '"z"' },
] as Obj[];

test("contentsXml renders exactly what the generic renderer did", () => {
  const id = (s: string) => s;
  const url = (s: string) => encodeURIComponent(s);
  for (const enc of [id, url]) {
    for (const owner of [undefined, { ID: "abc&<", DisplayName: "own\"er" }, { ID: "abc" }]) {
      expect(raw(OBJECTS, enc, owner)).toBe(generic(OBJECTS, enc, owner));
      expect(raw([], enc, owner)).toBe(generic([], enc, owner));
    }
  }
});
