import { describe, expect, test } from "bun:test";
import { S3Error, fsError, toS3Error } from "../../src/errors.ts";
import { reportFailure } from "../../src/http/response.ts";

const errno = (code: string) => Object.assign(new Error(`${code}: something, open '/root/secret/path'`), { code });

describe("errno → S3 error", () => {
  test.each([
    ["ENOSPC", 507, "InsufficientStorage"],
    ["EDQUOT", 507, "InsufficientStorage"],
    ["EACCES", 403, "AccessDenied"],
    ["EPERM", 403, "AccessDenied"],
    ["EROFS", 403, "AccessDenied"],
    ["ELOOP", 400, "InvalidRequest"],
    ["ENAMETOOLONG", 400, "KeyTooLongError"],
    ["EMFILE", 503, "SlowDown"],
    ["EIO", 500, "InternalError"],
  ])("%s → %d %s, cause kept, no path in the message", (code, status, s3code) => {
    const cause = errno(code);
    const e = toS3Error(cause);
    expect([e.status, e.code, e.cause]).toEqual([status, s3code, cause]);
    expect(e.message).not.toContain("/root");
  });

  test("fsError: ENOENT is the caller's not-found code; the rest as toS3Error", () => {
    expect(fsError(errno("ENOENT"), "NoSuchBucket").code).toBe("NoSuchBucket");
    expect(fsError(errno("ENOSPC")).code).toBe("InsufficientStorage");
  });

  test("a bug is never mapped to a client error: a TypeError is a 500 carrying it", () => {
    const bug = new TypeError("x is not a function");
    const e = toS3Error(bug);
    expect([e.status, e.code, e.cause]).toEqual([500, "InternalError", bug]);
    const s3 = new S3Error("NoSuchKey");
    expect(toS3Error(s3)).toBe(s3);
  });
});

describe("reportFailure", () => {
  const logged = (e: S3Error) => {
    const lines: string[] = [];
    reportFailure(e, "REQ1", (l) => lines.push(l));
    return lines;
  };
  test("a 500 is logged once with the cause's stack", () => {
    const lines = logged(toS3Error(new TypeError("boom")));
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("request REQ1: internal error");
    expect(lines[0]).toContain("TypeError: boom");
    expect(lines[0]).toMatch(/at .*errors\.test\.ts/);
  });
  test("a 507 names its errno", () => {
    expect(logged(toS3Error(errno("ENOSPC")))[0]).toMatch(/507 InsufficientStorage: .*cause: .*ENOSPC/);
  });
  test("client errors, 501 and the admission SlowDown are not failures", () => {
    expect([...logged(new S3Error("NoSuchKey")), ...logged(new S3Error("NotImplemented")), ...logged(new S3Error("SlowDown"))]).toEqual([]);
  });
  test("a 500 without a cause still logs where it was raised", () => {
    expect(logged(new S3Error("InternalError", "Part 1 is damaged."))[0]).toMatch(/internal error: Part 1 is damaged\. \| cause: \(no cause\) Error: Part 1/);
  });
});
