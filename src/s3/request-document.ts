// Request bodies that carry policy condition keys: PutObjectTagging's tags (s3:RequestObjectTag/…,
// s3:RequestObjectTagKeys), PutObjectRetention's mode and date and PutObjectLegalHold's status
// (s3:object-lock-*). When a policy that applies asks for those keys, src/app.ts reads the body
// before the access decision (prefetchDocument); the decision and then the handler share that one
// read and one parse per parser (readDocument / peekDocument). Otherwise the handler reads as usual.
import { readSmallBody } from "../http/request-body.ts";
import type { S3Context } from "./context.ts";
import type { OperationName } from "./operations.ts";

/** The operations whose document holds condition keys, and the size each may be. */
export const DOCUMENT_LIMITS: Partial<Record<OperationName, number>> = {
  PutObjectTagging: 64 * 1024,
  PutObjectRetention: 64 * 1024,
  PutObjectLegalHold: 64 * 1024,
};

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A body read ahead of the handler: its text, or why it could not be read; parses kept by parser. */
export interface Prefetched {
  read: { ok: true; text: string } | { ok: false; error: unknown };
  parsed: Map<(text: string) => unknown, Outcome>;
}

/** Reads the body now; a failure is kept and answered by the handler, after the access decision. */
export async function prefetchDocument(ctx: S3Context, limit: number): Promise<void> {
  let read: Prefetched["read"];
  try {
    read = { ok: true, text: await readSmallBody(ctx, limit) };
  } catch (error) {
    read = { ok: false, error };
  }
  ctx.document = { read, parsed: new Map() };
}

function parseOnce<T>(doc: Prefetched, text: string, parse: (text: string) => T): Outcome {
  let out = doc.parsed.get(parse);
  if (!out) {
    try {
      out = { ok: true, value: parse(text) };
    } catch (error) {
      out = { ok: false, error };
    }
    doc.parsed.set(parse, out);
  }
  return out;
}

/** The handler's document: the one read ahead (and parsed, if the decision parsed it), else read now. */
export async function readDocument<T>(ctx: S3Context, limit: number, parse: (text: string) => T): Promise<T> {
  const doc = ctx.document;
  if (!doc) return parse(await readSmallBody(ctx, limit));
  if (!doc.read.ok) throw doc.read.error;
  const out = parseOnce(doc, doc.read.text, parse);
  if (!out.ok) throw out.error;
  return out.value as T;
}

/** For condition keys: the parsed document if it was read ahead and parses; else undefined (key absent). */
export function peekDocument<T>(ctx: Pick<S3Context, "document">, parse: (text: string) => T): T | undefined {
  const doc = ctx.document;
  if (!doc?.read.ok) return undefined;
  const out = parseOnce(doc, doc.read.text, parse);
  return out.ok ? (out.value as T) : undefined;
}
