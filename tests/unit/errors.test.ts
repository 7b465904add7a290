import { describe, expect, test } from "bun:test";
import { S3Error, toS3Error } from "../../src/errors.ts";
import { reportFailure } from "../../src/http/response.ts";
import { StorageError, absentAs, isStorageError } from "../../src/storage/errors.ts";

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

  test("absentAs: ENOENT is the caller's not-found code; the rest as toS3Error", () => {
    expect(toS3Error(absentAs(errno("ENOENT"), "NoSuchBucket")).code).toBe("NoSuchBucket");
    expect(toS3Error(absentAs(errno("ENOSPC"))).code).toBe("InsufficientStorage");
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

describe("storage failures", () => {
  test("each kind has its S3 answer, with the names it concerns", () => {
    const e = toS3Error(new StorageError("NoSuchUpload", { UploadId: "u1" }));
    expect([e.code, e.status, e.extra.UploadId]).toEqual(["NoSuchUpload", 404, "u1"]);
    expect(toS3Error(new StorageError("BucketExists")).code).toBe("BucketAlreadyOwnedByYou");
    expect(toS3Error(new StorageError("ThroughLink", { Key: "a/b" })).status).toBe(403);
    const unsupported = toS3Error(new StorageError("UnsupportedKey", { why: "NUL character" }));
    expect([unsupported.code, unsupported.message, unsupported.extra]).toEqual(["InvalidArgument", "Object key is not supported by this gateway: NUL character.", { ArgumentName: "key" }]);
    expect(toS3Error(new StorageError("Exists")).extra.Condition).toBe("If-None-Match");
  });

  test("absentAs: ENOENT and ENOTDIR are the named absence; other errnos and bugs pass through", () => {
    const gone = absentAs(errno("ENOENT"), "NoSuchBucket", { BucketName: "b" });
    expect(isStorageError(gone, "NoSuchBucket")).toBe(true);
    expect(toS3Error(gone).extra.BucketName).toBe("b");
    const full = errno("ENOSPC");
    expect(absentAs(full)).toBe(full);
    expect(toS3Error(absentAs(full)).code).toBe("InsufficientStorage");
    const bug = new TypeError("x is undefined");
    expect(toS3Error(absentAs(bug)).code).toBe("InternalError");
    expect(toS3Error(absentAs(bug)).cause).toBe(bug);
  });

  test("a damaged store is a 500 that keeps the storage failure as its cause", () => {
    const e = toS3Error(new StorageError("Damaged", { PartNumber: "3" }));
    expect(e.status).toBe(500);
    expect(e.cause).toBeInstanceOf(StorageError);
  });
});
