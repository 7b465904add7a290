// The fixtures' own promise: a logged internal error fails the test that stops the gateway.
import { expect, test } from "bun:test";
import { assertNoInternalError } from "../../support/gateway.ts";
import { openApp } from "../../support/app.ts";

test("assertNoInternalError passes S3 errors and throws on a 500's log line", () => {
  expect(() => assertNoInternalError("request 1: 404 NoSuchKey\nlistening on http://127.0.0.1:1\n")).not.toThrow();
  expect(() => assertNoInternalError("request 2: internal error: boom | cause: TypeError")).toThrow(/1 internal error/);
});

test("the in-process gateway logs through the fixture, and close() checks that log", () => {
  const gw = openApp();
  gw.log.push("request 3: internal error: planted");
  expect(() => gw.close()).toThrow(/planted/);
});
