// Body condition keys (src/s3/request-document.ts, src/access/context-keys.ts): PutObjectTagging's
// tags and the Object Lock bodies give s3:RequestObjectTag*, s3:object-lock-*; the body read ahead
// is parsed once for the decision and the handler together; other operations keep the headers.
import { expect, test } from "bun:test";
import { requestContext } from "../../src/access/context-keys.ts";
import { ANONYMOUS } from "../../src/access/principal.ts";
import type { S3Context } from "../../src/s3/context.ts";
import { peekDocument, readDocument, type Prefetched } from "../../src/s3/request-document.ts";
import { parseTaggingXml } from "../../src/s3/tags.ts";

const prefetched = (text: string): Prefetched => ({ read: { ok: true, text }, parsed: new Map() });
const ctxOf = (op: string, document?: Prefetched, headers: Record<string, string> = {}) =>
  ({ op, headers: new Headers(headers), query: new URLSearchParams(), document }) as unknown as S3Context;
const keysOf = (ctx: S3Context) => requestContext(ctx, ANONYMOUS, { action: "s3:X", on: "object", bucket: "b", key: "k" });
const TAGS = "<Tagging><TagSet><Tag><Key>project</Key><Value>blue</Value></Tag><Tag><Key>Team</Key><Value>a</Value></Tag></TagSet></Tagging>";

test("PutObjectTagging: tag keys and values from the body, not from x-amz-tagging", () => {
  const keys = keysOf(ctxOf("PutObjectTagging", prefetched(TAGS), { "x-amz-tagging": "other=1" }));
  expect(keys.get("s3:RequestObjectTagKeys")).toEqual(["project", "Team"]);
  expect(keys.get("s3:RequestObjectTag/project")).toEqual(["blue"]);
  expect(keys.get("s3:RequestObjectTag/Team")).toEqual(["a"]);
  expect(keys.get("s3:RequestObjectTag/team")).toBeUndefined();
  expect(keys.get("s3:RequestObjectTag/other")).toBeUndefined();
  // Not read ahead (no policy asked) or not a tag set: the keys are absent.
  expect(keysOf(ctxOf("PutObjectTagging")).get("s3:RequestObjectTagKeys")).toBeUndefined();
  expect(keysOf(ctxOf("PutObjectTagging", prefetched("<Tagging>"))).get("s3:RequestObjectTagKeys")).toBeUndefined();
  // PutObject's come from the header.
  expect(keysOf(ctxOf("PutObject", undefined, { "x-amz-tagging": "a=1&b=2" })).get("s3:RequestObjectTagKeys")).toEqual(["a", "b"]);
});

test("PutObjectRetention and PutObjectLegalHold: the Object Lock keys from the body", () => {
  const until = new Date(Date.now() + 10 * 86_400_000 - 60_000).toISOString();
  const retention = keysOf(ctxOf("PutObjectRetention", prefetched(`<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${until}</RetainUntilDate></Retention>`), { "x-amz-object-lock-mode": "COMPLIANCE" }));
  expect(retention.get("s3:object-lock-mode")).toEqual(["GOVERNANCE"]);
  expect(retention.get("s3:object-lock-retain-until-date")?.[0]).toBeString();
  expect(retention.get("s3:object-lock-remaining-retention-days")).toEqual(["10"]);
  expect(retention.get("s3:object-lock-legal-hold")).toBeUndefined();
  const hold = keysOf(ctxOf("PutObjectLegalHold", prefetched("<LegalHold><Status>ON</Status></LegalHold>")));
  expect(hold.get("s3:object-lock-legal-hold")).toEqual(["ON"]);
  expect(hold.get("s3:object-lock-mode")).toBeUndefined();
  expect(keysOf(ctxOf("PutObject", undefined, { "x-amz-object-lock-legal-hold": "OFF" })).get("s3:object-lock-legal-hold")).toEqual(["OFF"]);
});

test("the decision and the handler share one read and one parse; a read that failed fails the handler", async () => {
  let parses = 0;
  const parse = (text: string) => {
    parses++;
    return parseTaggingXml(text);
  };
  const ctx = ctxOf("PutObjectTagging", prefetched(TAGS));
  expect(peekDocument(ctx, parse)).toHaveLength(2);
  expect(await readDocument(ctx, 1024, parse)).toEqual([["project", "blue"], ["Team", "a"]]);
  expect(parses).toBe(1);
  const bad = ctxOf("PutObjectTagging", prefetched("<Tagging>"));
  expect(peekDocument(bad, parseTaggingXml)).toBeUndefined();
  await expect(readDocument(bad, 1024, parseTaggingXml)).rejects.toMatchObject({ code: "MalformedXML" });
  const failed = ctxOf("PutObjectTagging", { read: { ok: false, error: new Error("BadDigest") }, parsed: new Map() });
  expect(peekDocument(failed, parseTaggingXml)).toBeUndefined();
  await expect(readDocument(failed, 1024, parseTaggingXml)).rejects.toThrow("BadDigest");
});
