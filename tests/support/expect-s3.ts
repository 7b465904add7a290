// Assertions on SDK failures (bun:test only: scripts import the other support modules, not this).
import { expect } from "bun:test";

/** Asserts that an SDK call failed with the given HTTP status and (when there is a body) S3 code. */
export async function expectS3Error(p: Promise<unknown>, status: number, code?: string): Promise<{ name: string; status: number }> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeDefined();
  const e = err as { name: string; Code?: string; $metadata?: { httpStatusCode?: number }; code?: string; statusCode?: number };
  const got = e.$metadata?.httpStatusCode ?? (e as { $response?: { statusCode?: number } }).$response?.statusCode;
  expect({ status: got, code: code === undefined ? undefined : (e.Code ?? e.name) }).toEqual({ status, code });
  return { name: e.name, status: got ?? 0 };
}
