import { describe, expect, test } from "bun:test";
import {
  ALL_OPERATIONS,
  OPERATION_TABLE,
  WIRE_ALIASES,
  operationFamily,
  resolveOperation,
  resolveOperationOrThrow,
  type OperationName,
  type RequestShape,
} from "../../src/s3/operations.ts";
import { S3Error } from "../../src/errors.ts";

// "/bucket/some/key?x" → a RequestShape, the way a path-style router would split it.
function req(method: string, url: string, headers: Record<string, string> = {}): RequestShape {
  const [path, qs = ""] = url.split("?", 2) as [string, string?];
  const [, bucket = "", ...rest] = path.split("/");
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method,
    bucket: bucket || null,
    key: rest.length ? rest.join("/") || null : null,
    query: new URLSearchParams(qs),
    headers: { get: (name) => lower[name.toLowerCase()] ?? null },
  };
}

const COPY = { "x-amz-copy-source": "/src/key" };

// One wire shape per operation, written from the API reference's Request Syntax sections rather
// than derived from the table, so a mistake in the table shows up as a failure here.
const FIXTURES: [OperationName, string, string, Record<string, string>?][] = [
  ["ListBuckets", "GET", "/"],
  ["ListDirectoryBuckets", "GET", "/?max-directory-buckets=10"],
  ["CreateBucket", "PUT", "/b"],
  ["DeleteBucket", "DELETE", "/b"],
  ["HeadBucket", "HEAD", "/b"],
  ["GetBucketLocation", "GET", "/b?location"],

  ["GetObject", "GET", "/b/k"],
  ["HeadObject", "HEAD", "/b/k"],
  ["PutObject", "PUT", "/b/k"],
  ["CopyObject", "PUT", "/b/k", COPY],
  ["PostObject", "POST", "/b", { "content-type": "multipart/form-data; boundary=x" }],
  ["DeleteObject", "DELETE", "/b/k"],
  ["DeleteObjects", "POST", "/b?delete"],
  ["RenameObject", "PUT", "/b/new?renameObject", { "x-amz-rename-source": "old" }],
  ["RestoreObject", "POST", "/b/k?restore"],
  ["SelectObjectContent", "POST", "/b/k?select&select-type=2"],
  ["GetObjectAttributes", "GET", "/b/k?attributes"],
  ["GetObjectTorrent", "GET", "/b/k?torrent"],

  ["CreateMultipartUpload", "POST", "/b/k?uploads"],
  ["UploadPart", "PUT", "/b/k?partNumber=1&uploadId=u"],
  ["UploadPartCopy", "PUT", "/b/k?partNumber=1&uploadId=u", COPY],
  ["CompleteMultipartUpload", "POST", "/b/k?uploadId=u"],
  ["AbortMultipartUpload", "DELETE", "/b/k?uploadId=u"],
  ["ListParts", "GET", "/b/k?uploadId=u"],
  ["ListMultipartUploads", "GET", "/b?uploads"],

  ["ListObjects", "GET", "/b"],
  ["ListObjectsV2", "GET", "/b?list-type=2"],
  ["ListObjectVersions", "GET", "/b?versions"],

  ["GetBucketAcl", "GET", "/b?acl"],
  ["PutBucketAcl", "PUT", "/b?acl"],
  ["GetBucketAbac", "GET", "/b?abac"],
  ["PutBucketAbac", "PUT", "/b?abac"],
  ["GetBucketAccelerateConfiguration", "GET", "/b?accelerate"],
  ["PutBucketAccelerateConfiguration", "PUT", "/b?accelerate"],
  ["GetBucketAnalyticsConfiguration", "GET", "/b?analytics&id=a"],
  ["ListBucketAnalyticsConfigurations", "GET", "/b?analytics"],
  ["PutBucketAnalyticsConfiguration", "PUT", "/b?analytics&id=a"],
  ["DeleteBucketAnalyticsConfiguration", "DELETE", "/b?analytics&id=a"],
  ["GetBucketCors", "GET", "/b?cors"],
  ["PutBucketCors", "PUT", "/b?cors"],
  ["DeleteBucketCors", "DELETE", "/b?cors"],
  ["GetBucketEncryption", "GET", "/b?encryption"],
  ["PutBucketEncryption", "PUT", "/b?encryption"],
  ["DeleteBucketEncryption", "DELETE", "/b?encryption"],
  ["GetBucketIntelligentTieringConfiguration", "GET", "/b?intelligent-tiering&id=t"],
  ["ListBucketIntelligentTieringConfigurations", "GET", "/b?intelligent-tiering"],
  ["PutBucketIntelligentTieringConfiguration", "PUT", "/b?intelligent-tiering&id=t"],
  ["DeleteBucketIntelligentTieringConfiguration", "DELETE", "/b?intelligent-tiering&id=t"],
  ["GetBucketInventoryConfiguration", "GET", "/b?inventory&id=i"],
  ["ListBucketInventoryConfigurations", "GET", "/b?inventory&continuation-token=c"],
  ["PutBucketInventoryConfiguration", "PUT", "/b?inventory&id=i"],
  ["DeleteBucketInventoryConfiguration", "DELETE", "/b?inventory&id=i"],
  ["GetBucketLifecycleConfiguration", "GET", "/b?lifecycle"],
  ["PutBucketLifecycleConfiguration", "PUT", "/b?lifecycle"],
  ["DeleteBucketLifecycle", "DELETE", "/b?lifecycle"],
  ["GetBucketLogging", "GET", "/b?logging"],
  ["PutBucketLogging", "PUT", "/b?logging"],
  ["CreateBucketMetadataConfiguration", "POST", "/b?metadataConfiguration"],
  ["GetBucketMetadataConfiguration", "GET", "/b?metadataConfiguration"],
  ["DeleteBucketMetadataConfiguration", "DELETE", "/b?metadataConfiguration"],
  ["CreateBucketMetadataTableConfiguration", "POST", "/b?metadataTable"],
  ["GetBucketMetadataTableConfiguration", "GET", "/b?metadataTable"],
  ["DeleteBucketMetadataTableConfiguration", "DELETE", "/b?metadataTable"],
  ["UpdateBucketMetadataInventoryTableConfiguration", "PUT", "/b?metadataInventoryTable"],
  ["UpdateBucketMetadataJournalTableConfiguration", "PUT", "/b?metadataJournalTable"],
  ["UpdateBucketMetadataAnnotationTableConfiguration", "PUT", "/b?metadataAnnotationTable"],
  ["GetBucketMetricsConfiguration", "GET", "/b?metrics&id=m"],
  ["ListBucketMetricsConfigurations", "GET", "/b?metrics"],
  ["PutBucketMetricsConfiguration", "PUT", "/b?metrics&id=m"],
  ["DeleteBucketMetricsConfiguration", "DELETE", "/b?metrics&id=m"],
  ["GetBucketNotificationConfiguration", "GET", "/b?notification"],
  ["PutBucketNotificationConfiguration", "PUT", "/b?notification"],
  ["GetObjectLockConfiguration", "GET", "/b?object-lock"],
  ["PutObjectLockConfiguration", "PUT", "/b?object-lock"],
  ["GetBucketOwnershipControls", "GET", "/b?ownershipControls"],
  ["PutBucketOwnershipControls", "PUT", "/b?ownershipControls"],
  ["DeleteBucketOwnershipControls", "DELETE", "/b?ownershipControls"],
  ["GetBucketPolicy", "GET", "/b?policy"],
  ["PutBucketPolicy", "PUT", "/b?policy"],
  ["DeleteBucketPolicy", "DELETE", "/b?policy"],
  ["GetBucketPolicyStatus", "GET", "/b?policyStatus"],
  ["GetPublicAccessBlock", "GET", "/b?publicAccessBlock"],
  ["PutPublicAccessBlock", "PUT", "/b?publicAccessBlock"],
  ["DeletePublicAccessBlock", "DELETE", "/b?publicAccessBlock"],
  ["GetBucketReplication", "GET", "/b?replication"],
  ["PutBucketReplication", "PUT", "/b?replication"],
  ["DeleteBucketReplication", "DELETE", "/b?replication"],
  ["GetBucketRequestPayment", "GET", "/b?requestPayment"],
  ["PutBucketRequestPayment", "PUT", "/b?requestPayment"],
  ["GetBucketTagging", "GET", "/b?tagging"],
  ["PutBucketTagging", "PUT", "/b?tagging"],
  ["DeleteBucketTagging", "DELETE", "/b?tagging"],
  ["GetBucketVersioning", "GET", "/b?versioning"],
  ["PutBucketVersioning", "PUT", "/b?versioning"],
  ["GetBucketWebsite", "GET", "/b?website"],
  ["PutBucketWebsite", "PUT", "/b?website"],
  ["DeleteBucketWebsite", "DELETE", "/b?website"],

  ["GetObjectAcl", "GET", "/b/k?acl"],
  ["PutObjectAcl", "PUT", "/b/k?acl"],
  ["GetObjectTagging", "GET", "/b/k?tagging"],
  ["PutObjectTagging", "PUT", "/b/k?tagging"],
  ["DeleteObjectTagging", "DELETE", "/b/k?tagging"],
  ["GetObjectRetention", "GET", "/b/k?retention"],
  ["PutObjectRetention", "PUT", "/b/k?retention"],
  ["GetObjectLegalHold", "GET", "/b/k?legal-hold"],
  ["PutObjectLegalHold", "PUT", "/b/k?legal-hold"],
  ["GetObjectAnnotation", "GET", "/b/k?annotation&annotationName=n"],
  ["ListObjectAnnotations", "GET", "/b/k?annotation&annotation-prefix=p"],
  ["PutObjectAnnotation", "PUT", "/b/k?annotation&annotationName=n"],
  ["DeleteObjectAnnotation", "DELETE", "/b/k?annotation&annotationName=n"],
  ["UpdateObjectEncryption", "PUT", "/b/k?encryption"],

  ["CreateSession", "GET", "/b?session"],
  ["OptionsObject", "OPTIONS", "/b/k"],
  ["OptionsObject", "OPTIONS", "/b/k?uploadId=u&partNumber=1"],
  ["WriteGetObjectResponse", "POST", "/WriteGetObjectResponse", { "x-amz-request-route": "r", "x-amz-request-token": "t" }],
];

describe("operation list", () => {
  test("names are unique", () => {
    expect(new Set(ALL_OPERATIONS).size).toBe(ALL_OPERATIONS.length);
  });

  test("every operation has a fixture, except wire aliases of a successor", () => {
    const covered = new Set<OperationName>([
      ...FIXTURES.map(([op]) => op),
      ...(Object.keys(WIRE_ALIASES) as OperationName[]),
    ]);
    expect([...ALL_OPERATIONS].filter((op) => !covered.has(op))).toEqual([]);
    expect([...covered].filter((op) => !ALL_OPERATIONS.includes(op))).toEqual([]);
  });

  test("every operation has a table row, except wire aliases", () => {
    const rows = new Set(OPERATION_TABLE.map((r) => r.op));
    for (const op of ALL_OPERATIONS) {
      if (op in WIRE_ALIASES) expect(rows.has(op)).toBe(false);
      else expect(rows.has(op)).toBe(true);
    }
  });

  test("wire aliases resolve to their successor", () => {
    expect(resolveOperation(req("GET", "/b?lifecycle"))).toBe(WIRE_ALIASES.GetBucketLifecycle!);
    expect(resolveOperation(req("PUT", "/b?lifecycle"))).toBe(WIRE_ALIASES.PutBucketLifecycle!);
    expect(resolveOperation(req("GET", "/b?notification"))).toBe(WIRE_ALIASES.GetBucketNotification!);
    expect(resolveOperation(req("PUT", "/b?notification"))).toBe(WIRE_ALIASES.PutBucketNotification!);
  });
});

describe("resolveOperation: one shape per operation", () => {
  for (const [op, method, url, headers] of FIXTURES) {
    test(`${method} ${url} → ${op}`, () => {
      expect(resolveOperation(req(method, url, headers))).toBe(op);
    });
  }
});

describe("resolveOperation: every table row is reachable by its minimal request", () => {
  const path = { service: "/", bucket: "/b", object: "/b/k" } as const;
  for (const row of OPERATION_TABLE) {
    const params = [row.query, ...(row.queryAll ?? [])].filter((p): p is string => !!p);
    const url = path[row.target] + (params.length ? `?${params.join("&")}` : "");
    test(`${row.method} ${url}${row.header ? ` +${row.header}` : ""} → ${row.op}`, () => {
      const headers = row.header ? { [row.header]: "x" } : {};
      expect(resolveOperation(req(row.method, url, headers))).toBe(row.op);
    });
  }
});

describe("resolveOperation: ambiguities", () => {
  test("CopyObject vs PutObject", () => {
    expect(resolveOperation(req("PUT", "/b/k"))).toBe("PutObject");
    expect(resolveOperation(req("PUT", "/b/k", COPY))).toBe("CopyObject");
  });

  test("UploadPartCopy vs UploadPart", () => {
    expect(resolveOperation(req("PUT", "/b/k?uploadId=u&partNumber=3"))).toBe("UploadPart");
    expect(resolveOperation(req("PUT", "/b/k?uploadId=u&partNumber=3", COPY))).toBe("UploadPartCopy");
  });

  test("ListObjects vs ListObjectsV2", () => {
    expect(resolveOperation(req("GET", "/b?prefix=a&delimiter=/"))).toBe("ListObjects");
    expect(resolveOperation(req("GET", "/b?list-type=2&prefix=a"))).toBe("ListObjectsV2");
    expect(resolveOperation(req("GET", "/b?list-type=1"))).toBe("ListObjects");
  });

  test("id-addressed configuration: Get with id, List without", () => {
    for (const [sub, get, list] of [
      ["analytics", "GetBucketAnalyticsConfiguration", "ListBucketAnalyticsConfigurations"],
      ["inventory", "GetBucketInventoryConfiguration", "ListBucketInventoryConfigurations"],
      ["metrics", "GetBucketMetricsConfiguration", "ListBucketMetricsConfigurations"],
      ["intelligent-tiering", "GetBucketIntelligentTieringConfiguration", "ListBucketIntelligentTieringConfigurations"],
    ] as const) {
      expect(resolveOperation(req("GET", `/b?${sub}&id=x`))).toBe(get);
      expect(resolveOperation(req("GET", `/b?${sub}`))).toBe(list);
      expect(resolveOperation(req("GET", `/b?${sub}=&continuation-token=t`))).toBe(list);
    }
  });

  test("annotations: Get with annotationName, List without", () => {
    expect(resolveOperation(req("GET", "/b/k?annotation&annotationName=n"))).toBe("GetObjectAnnotation");
    expect(resolveOperation(req("GET", "/b/k?annotation"))).toBe("ListObjectAnnotations");
  });

  test("DeleteObjects vs DeleteBucket vs PostObject", () => {
    expect(resolveOperation(req("POST", "/b?delete"))).toBe("DeleteObjects");
    expect(resolveOperation(req("POST", "/b?delete="))).toBe("DeleteObjects");
    expect(resolveOperation(req("DELETE", "/b"))).toBe("DeleteBucket");
    expect(resolveOperation(req("POST", "/b"))).toBe("PostObject");
  });

  test("ListBuckets vs ListDirectoryBuckets", () => {
    expect(resolveOperation(req("GET", "/?max-buckets=5&continuation-token=c"))).toBe("ListBuckets");
    expect(resolveOperation(req("GET", "/?max-directory-buckets=5"))).toBe("ListDirectoryBuckets");
  });

  test("bucket-level and object-level sub-resources with the same name", () => {
    expect(resolveOperation(req("GET", "/b?tagging"))).toBe("GetBucketTagging");
    expect(resolveOperation(req("GET", "/b/k?tagging"))).toBe("GetObjectTagging");
    expect(resolveOperation(req("PUT", "/b?encryption"))).toBe("PutBucketEncryption");
    expect(resolveOperation(req("PUT", "/b/k?encryption"))).toBe("UpdateObjectEncryption");
    expect(resolveOperation(req("GET", "/b?uploads"))).toBe("ListMultipartUploads");
    expect(resolveOperation(req("POST", "/b/k?uploads"))).toBe("CreateMultipartUpload");
  });

  test("uploadId routes by method", () => {
    expect(resolveOperation(req("GET", "/b/k?uploadId=u"))).toBe("ListParts");
    expect(resolveOperation(req("GET", "/b/k?uploadId=u&max-parts=10&part-number-marker=2"))).toBe("ListParts");
    expect(resolveOperation(req("POST", "/b/k?uploadId=u"))).toBe("CompleteMultipartUpload");
    expect(resolveOperation(req("DELETE", "/b/k?uploadId=u"))).toBe("AbortMultipartUpload");
  });

  test("trailing slash on the bucket is the bucket", () => {
    expect(resolveOperation(req("GET", "/b/"))).toBe("ListObjects");
  });
});

describe("resolveOperation: unrelated parameters are ignored", () => {
  test("GetObject with part number, version, response overrides and presign params", () => {
    const url =
      "/b/k?partNumber=2&versionId=v&response-content-type=text/plain&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      "&X-Amz-Signature=abc&X-Amz-Credential=c&x-id=GetObject";
    expect(resolveOperation(req("GET", url))).toBe("GetObject");
  });

  test("x-id never overrides the shape", () => {
    expect(resolveOperation(req("PUT", "/b/k?x-id=CopyObject"))).toBe("PutObject");
    expect(resolveOperation(req("GET", "/b?x-id=ListBuckets"))).toBe("ListObjects");
    expect(resolveOperation(req("DELETE", "/b/k?x-id=AbortMultipartUpload"))).toBe("DeleteObject");
  });

  test("empty-valued sub-resources count as present", () => {
    expect(resolveOperation(req("GET", "/b/k?tagging="))).toBe("GetObjectTagging");
    expect(resolveOperation(req("GET", "/b/k?tagging&versionId=v"))).toBe("GetObjectTagging");
  });

  test("method names are case-insensitive", () => {
    expect(resolveOperation(req("get", "/b/k"))).toBe("GetObject");
  });
});

describe("resolveOperation: HEAD", () => {
  test("plain HEAD is HeadBucket / HeadObject, whatever the ordinary params", () => {
    expect(resolveOperation(req("HEAD", "/b?list-type=2"))).toBe("HeadBucket");
    expect(resolveOperation(req("HEAD", "/b/k?partNumber=1&versionId=v"))).toBe("HeadObject");
  });

  test("HEAD on a sub-resource is the matching read", () => {
    expect(resolveOperation(req("HEAD", "/b/k?tagging"))).toBe("GetObjectTagging");
    expect(resolveOperation(req("HEAD", "/b?versions"))).toBe("ListObjectVersions");
    expect(resolveOperation(req("HEAD", "/"))).toBe("ListBuckets");
  });

  test("HEAD never resolves to a GET with side effects", () => {
    expect(resolveOperation(req("HEAD", "/b?session"))).toBeNull();
  });
});

describe("resolveOperation: nothing matches", () => {
  test("sub-resources never fall through to the plain operation", () => {
    // These would otherwise overwrite an object / delete a bucket / read the object.
    expect(resolveOperation(req("PUT", "/b/k?versioning"))).toBeNull();
    expect(resolveOperation(req("DELETE", "/b?location"))).toBeNull();
    expect(resolveOperation(req("PUT", "/b?location"))).toBeNull();
    expect(resolveOperation(req("GET", "/b/k?uploads"))).toBeNull();
    expect(resolveOperation(req("PUT", "/b/k?uploadId=u"))).toBeNull();
  });

  test("methods S3 does not define for the resource", () => {
    expect(resolveOperation(req("PUT", "/"))).toBeNull();
    expect(resolveOperation(req("DELETE", "/"))).toBeNull();
    expect(resolveOperation(req("POST", "/"))).toBeNull();
    expect(resolveOperation(req("POST", "/b/k"))).toBeNull();
    expect(resolveOperation(req("PATCH", "/b/k"))).toBeNull();
    expect(resolveOperation(req("OPTIONS", "/"))).toBeNull();
  });
});

describe("resolveOperationOrThrow", () => {
  function errorOf(r: RequestShape): S3Error {
    try {
      resolveOperationOrThrow(r);
    } catch (e) {
      if (e instanceof S3Error) return e;
      throw e;
    }
    throw new Error("expected an S3Error");
  }

  test("returns the operation when there is one", () => {
    expect(resolveOperationOrThrow(req("GET", "/b/k"))).toBe("GetObject");
  });

  test("405 for a method the resource does not support, with the methods it does in Allow", () => {
    const cases: [RequestShape, string, string][] = [
      [req("PUT", "/"), "GET, HEAD", "SERVICE"],
      [req("POST", "/b/k"), "GET, HEAD, PUT, DELETE", "OBJECT"],
      [req("DELETE", "/b?location"), "GET, HEAD", "BUCKET"],
      [req("PATCH", "/b"), "GET, HEAD, PUT, POST, DELETE", "BUCKET"],
    ];
    for (const [r, allow, type] of cases) {
      const e = errorOf(r);
      expect(e.code).toBe("MethodNotAllowed");
      expect(e.status).toBe(405);
      expect(e.headers.allow).toBe(allow);
      expect(e.extra).toEqual({ Method: r.method, ResourceType: type });
    }
  });

  test("400 when a sub-resource is present but its companions are not", () => {
    const cases: [RequestShape, string][] = [
      [req("PUT", "/b/k?uploadId=u"), "partNumber"],
      [req("POST", "/b/k?select"), "select-type=2"],
      [req("POST", "/b/k?select&select-type=1"), "select-type=2"],
      [req("PUT", "/b/k?renameObject"), "x-amz-rename-source"],
    ];
    for (const [r, what] of cases) {
      const e = errorOf(r);
      expect(e.code).toBe("InvalidRequest");
      expect(e.status).toBe(400);
      expect(e.message).toContain(what);
    }
  });
});

describe("operationFamily", () => {
  test("representative members", () => {
    expect(operationFamily("CreateBucket")).toBe("buckets");
    expect(operationFamily("GetObject")).toBe("objects");
    expect(operationFamily("UploadPartCopy")).toBe("multipart");
    expect(operationFamily("ListObjectsV2")).toBe("listing");
    expect(operationFamily("PutBucketLifecycleConfiguration")).toBe("bucket-config");
    expect(operationFamily("GetObjectLockConfiguration")).toBe("bucket-config");
    expect(operationFamily("PutObjectTagging")).toBe("object-config");
    expect(operationFamily("CreateSession")).toBe("other");
  });

  test("every operation has a family", () => {
    const families = new Set(["buckets", "objects", "multipart", "listing", "bucket-config", "object-config", "other"]);
    for (const op of ALL_OPERATIONS) expect(families.has(operationFamily(op))).toBe(true);
  });
});
