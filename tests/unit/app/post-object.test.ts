// In-process: PostObject (routes/post-object.ts): a browser form with a SigV4-signed policy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ACCESS_KEY, REGION } from "../../support/env.ts";
import { amzDate, errorCode, md5Hex, signingKey } from "../../support/sign.ts";
import { openApp, type AppGateway } from "../../support/app.ts";

let gw: AppGateway;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/form");
});
afterAll(() => gw.close());

/** The fields of a form whose policy allows keys under uploads/ and the given extra conditions. */
function signedFields(key: string, extra: unknown[] = [], secretOk = true): Record<string, string> {
  const t = amzDate();
  const credential = `${ACCESS_KEY}/${t.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(Date.now() + 600_000).toISOString(),
      conditions: [{ bucket: "form" }, ["starts-with", "$key", "uploads/"], { "x-amz-algorithm": "AWS4-HMAC-SHA256" }, { "x-amz-credential": credential }, { "x-amz-date": t }, ...extra],
    }),
  ).toString("base64");
  const signature = createHmac("sha256", signingKey(t, secretOk ? undefined : "wrong-secret-0000000000")).update(policy).digest("hex");
  return { key, "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential, "x-amz-date": t, policy, "x-amz-signature": signature };
}

async function post(fields: Record<string, string>, file: string) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([file]), "f.txt");
  const r = await gw.fetch("/form", { method: "POST", body: form });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text, code: errorCode(text) };
}

test("a signed form: 204, the file on disk, ETag the MD5", async () => {
  const r = await post(signedFields("uploads/a.txt"), "from a form");
  expect([r.status, r.headers.get("etag")]).toEqual([204, `"${md5Hex("from a form")}"`]);
  expect(readFileSync(join(gw.root, "form", "uploads", "a.txt"), "utf8")).toBe("from a form");
});

test("success_action_status 201 answers a PostResponse document", async () => {
  const r = await post({ ...signedFields("uploads/b.txt", [{ success_action_status: "201" }]), success_action_status: "201" }, "b");
  expect(r.status).toBe(201);
  expect(r.body).toContain("<Key>uploads/b.txt</Key>");
});

test("a key the policy does not allow: 403 AccessDenied; a wrong signature: 403 SignatureDoesNotMatch", async () => {
  const outside = await post(signedFields("elsewhere.txt"), "x");
  expect([outside.status, outside.code]).toEqual([403, "AccessDenied"]);
  const forged = await post(signedFields("uploads/c.txt", [], false), "x");
  expect([forged.status, forged.code]).toEqual([403, "SignatureDoesNotMatch"]);
});
