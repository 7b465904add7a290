import { describe, expect, test } from "bun:test";
import { S3Error } from "../../src/errors.ts";
import { keepAliveXml } from "../../src/http/keep-alive.ts";

const opts = { graceMs: 30, intervalMs: 10, resource: "/b/k", requestId: "REQ1" };
const later = (ms: number, v: string) => new Promise<string>((ok) => setTimeout(() => ok(v), ms));
const failLater = (ms: number, e: Error) => new Promise<string>((_, no) => setTimeout(() => no(e), ms));
const DOC = '<?xml version="1.0" encoding="UTF-8"?>\n<Result><A>1</A></Result>';

describe("keepAliveXml", () => {
  test("a fast result is an ordinary response", async () => {
    const r = await keepAliveXml(Promise.resolve(DOC), opts);
    expect(r.status).toBe(200);
    // With its length, so the access log and metrics count the bytes sent.
    expect(r.headers.get("content-length")).toBe(String(Buffer.byteLength(DOC)));
    expect(await r.text()).toBe(DOC);
  });

  test("a fast failure is rethrown for the normal error path", async () => {
    await expect(keepAliveXml(Promise.reject(new S3Error("NoSuchUpload")), opts)).rejects.toBeInstanceOf(S3Error);
  });

  test("a slow result streams 200: declaration, whitespace, then the document", async () => {
    const r = await keepAliveXml(later(120, DOC), opts);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n ')).toBe(true);
    expect(text.match(/\?>\n( +)</)![1].length).toBeGreaterThan(2);
    expect(text.endsWith("<Result><A>1</A></Result>")).toBe(true);
    expect(text.match(/<\?xml/g)!.length).toBe(1);
  });

  test("a slow failure becomes an <Error> document inside the 200", async () => {
    const r = await keepAliveXml(failLater(80, new S3Error("PreconditionFailed")), opts);
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(text).toContain("<Error><Code>PreconditionFailed</Code>");
    expect(text).toContain("<RequestId>REQ1</RequestId>");
  });

  test("unexpected errors are logged and reported as InternalError", async () => {
    const logged: string[] = [];
    const r = await keepAliveXml(failLater(60, new Error("/secret/path broke")), { ...opts, log: (l) => logged.push(l) });
    const text = await r.text();
    expect(text).toContain("<Code>InternalError</Code>");
    expect(text).not.toContain("/secret/path");
    expect(logged.join()).toContain("/secret/path");
  });
});
