// In-process: CORS (routes/cors.ts): the configuration round trip and a browser's preflight.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { md5B64 } from "../../support/sign.ts";
import { openApp, type AppGateway } from "../../support/app.ts";

let gw: AppGateway;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/web");
});
afterAll(() => gw.close());

const RULES =
  "<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>" +
  "<AllowedHeader>content-type</AllowedHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>";
const putRules = () => gw.signed("PUT", "/web", { query: { cors: "" }, body: RULES, headers: { "content-md5": md5B64(RULES) } });

test("nothing configured: 404 NoSuchCORSConfiguration; then Put, Get, Delete", async () => {
  expect((await gw.signed("GET", "/web", { query: { cors: "" } })).code).toBe("NoSuchCORSConfiguration");
  expect((await putRules()).status).toBe(200);
  const got = await gw.signed("GET", "/web", { query: { cors: "" } });
  expect(got.body).toContain("<AllowedOrigin>https://app.example</AllowedOrigin>");
  expect((await gw.signed("DELETE", "/web", { query: { cors: "" } })).status).toBe(204);
  expect((await gw.signed("GET", "/web", { query: { cors: "" } })).code).toBe("NoSuchCORSConfiguration");
});

test("a rules document without Content-MD5: 400 InvalidRequest", async () => {
  const r = await gw.signed("PUT", "/web", { query: { cors: "" }, body: RULES });
  expect([r.status, r.code]).toEqual([400, "InvalidRequest"]);
});

test("an unsigned preflight that a rule allows: 200 with the allow headers", async () => {
  await putRules();
  const r = await gw.fetch("/web/k", { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "PUT", "access-control-request-headers": "content-type" } });
  expect(r.status).toBe(200);
  expect(r.headers.get("access-control-allow-origin")).toBe("https://app.example");
  expect(r.headers.get("access-control-allow-methods")).toContain("PUT");
  expect(r.headers.get("access-control-max-age")).toBe("600");
});

test("a preflight no rule allows: 403", async () => {
  await putRules();
  const r = await gw.fetch("/web/k", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "GET" } });
  expect(r.status).toBe(403);
  expect(r.headers.get("access-control-allow-origin")).toBeNull();
});
