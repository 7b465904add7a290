// The handler table: every handled operation is in the operation table, and no operation is
// handled twice (a duplicate stops the gateway instead of silently replacing a handler).
import { expect, test } from "bun:test";
import { HANDLERS, combineHandlers } from "../../src/routes/index.ts";
import { ALL_OPERATIONS } from "../../src/s3/operations.ts";

test("every handler belongs to an operation of the table", () => {
  for (const op of Object.keys(HANDLERS)) expect(ALL_OPERATIONS).toContain(op as never);
});

test("an operation handled by two families is refused at start-up", () => {
  const h = async () => new Response(null);
  expect(() => combineHandlers({ a: { GetObject: h }, b: { GetObject: h } })).toThrow("GetObject");
  expect(Object.keys(combineHandlers({ a: { GetObject: h }, b: { PutObject: h } })).sort()).toEqual(["GetObject", "PutObject"]);
});
