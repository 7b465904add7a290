import { describe, expect, test } from "bun:test";
import { contentRange, parseRange, unsatisfiedContentRange, type RangeResult } from "../../src/ranges/parse.ts";

const full: RangeResult = { kind: "full" };
const unsat: RangeResult = { kind: "unsatisfiable" };
const part = (start: number, end: number): RangeResult => ({ kind: "partial", start, end });

describe("parseRange against Amazon S3's recorded answers (10-byte object)", () => {
  // Each row is a request S3 was observed answering; see the header comment in parse.ts.
  const cases: Array<[string, RangeResult]> = [
    ["bytes=0-8", part(0, 8)],
    ["bytes=1-1", part(1, 1)],
    ["bytes=1-0", full],
    ["bytes=1-", part(1, 9)],
    ["bytes=-1-", full],
    ["bytes=-2", part(8, 9)],
    ["bytes=-9", part(1, 9)],
    ["bytes=-15", part(0, 9)],
    ["bytes=0-100", part(0, 9)],
    ["bytes=0-0", part(0, 0)],
    ["bytes=0--1", full],
    ["bytes=0-1,3-4,7-9", full],
    ["0-1", full],
    ["bytes=-", full],
    ["bytes=-0", unsat],
    ["bytes=100-200", unsat],
  ];
  for (const [header, want] of cases) {
    test(header, () => expect(parseRange(header, 10)).toEqual(want));
  }
});

describe("no header", () => {
  test("undefined, null and empty mean the whole object", () => {
    expect(parseRange(undefined, 10)).toEqual(full);
    expect(parseRange(null, 10)).toEqual(full);
    expect(parseRange("", 10)).toEqual(full);
  });
});

describe("single ranges", () => {
  test("first-last inside the object", () => {
    expect(parseRange("bytes=2-5", 10)).toEqual(part(2, 5));
    expect(parseRange("bytes=9-9", 10)).toEqual(part(9, 9));
  });
  test("open-ended from the last byte", () => {
    expect(parseRange("bytes=9-", 10)).toEqual(part(9, 9));
  });
  test("end at or past the size clamps to size-1", () => {
    expect(parseRange("bytes=3-9", 10)).toEqual(part(3, 9));
    expect(parseRange("bytes=3-10", 10)).toEqual(part(3, 9));
    expect(parseRange("bytes=5-15", 10)).toEqual(part(5, 9));
  });
  test("suffix equal to the size is the whole object as a 206", () => {
    expect(parseRange("bytes=-10", 10)).toEqual(part(0, 9));
  });
  test("leading zeros are plain decimal", () => {
    expect(parseRange("bytes=007-0008", 10)).toEqual(part(7, 8));
    expect(parseRange("bytes=-003", 10)).toEqual(part(7, 9));
  });
  test("unit is case-insensitive", () => {
    expect(parseRange("Bytes=1-2", 10)).toEqual(part(1, 2));
    expect(parseRange("BYTES=-1", 10)).toEqual(part(9, 9));
  });
});

describe("unsatisfiable (416 InvalidRange)", () => {
  test("start at or beyond the size", () => {
    expect(parseRange("bytes=10-", 10)).toEqual(unsat);
    expect(parseRange("bytes=10-20", 10)).toEqual(unsat);
    expect(parseRange("bytes=11-11", 10)).toEqual(unsat);
  });
  test("zero-length suffix", () => {
    expect(parseRange("bytes=-0", 10)).toEqual(unsat);
    expect(parseRange("bytes=-000", 10)).toEqual(unsat);
  });
});

describe("ignored (whole object, 200)", () => {
  const ignored = [
    "bytes=abc",
    "bytes=5-2",
    "items=0-1",
    "bytes=-",
    "bytes=",
    "bytes",
    "bytes 0-1",
    "bytes:0-1",
    "=0-1",
    "bytes=0-1,",
    "bytes=0-1, 3-4",
    "bytes=-1,-2",
    "bytes=0-1,0-1",
    "bytes=--1",
    "bytes=+1-2",
    "bytes=1.5-2",
    "bytes=0x1-2",
    "bytes=1-2-3",
    "bytes=1 - 2",
    "bytes =1-2",
    "bytes=1-2;",
    "bytes=１-2", // fullwidth digit: not DIGIT
  ];
  for (const h of ignored) {
    test(JSON.stringify(h), () => expect(parseRange(h, 10)).toEqual(full));
  }
  test("an invalid range is ignored even when its start is past the end", () => {
    // Syntax is judged before satisfiability, as RFC 9110 orders it.
    expect(parseRange("bytes=5-2", 3)).toEqual(full);
    expect(parseRange("bytes=100-50", 10)).toEqual(full);
  });
});

describe("whitespace", () => {
  test("surrounding whitespace and whitespace after '=' are tolerated", () => {
    expect(parseRange("  bytes=1-2  ", 10)).toEqual(part(1, 2));
    expect(parseRange("bytes= 1-2", 10)).toEqual(part(1, 2));
    expect(parseRange("bytes=\t-3", 10)).toEqual(part(7, 9));
  });
  test("whitespace inside a range-spec is not", () => {
    expect(parseRange("bytes=1 -2", 10)).toEqual(full);
    expect(parseRange("bytes=1- 2", 10)).toEqual(full);
    expect(parseRange("bytes=- 2", 10)).toEqual(full);
  });
});

describe("empty object", () => {
  test("first-byte ranges are unsatisfiable", () => {
    expect(parseRange("bytes=0-", 0)).toEqual(unsat);
    expect(parseRange("bytes=0-0", 0)).toEqual(unsat);
    expect(parseRange("bytes=0-100", 0)).toEqual(unsat);
    expect(parseRange("bytes=5-", 0)).toEqual(unsat);
  });
  test("a non-zero suffix returns the (empty) whole object", () => {
    expect(parseRange("bytes=-1", 0)).toEqual(full);
    expect(parseRange("bytes=-500", 0)).toEqual(full);
  });
  test("a zero suffix is still unsatisfiable", () => {
    expect(parseRange("bytes=-0", 0)).toEqual(unsat);
  });
  test("invalid headers still mean the whole object", () => {
    expect(parseRange("bytes=1-0", 0)).toEqual(full);
    expect(parseRange("bytes=0-1,2-3", 0)).toEqual(full);
  });
});

describe("numbers beyond 2^53", () => {
  const huge = "99999999999999999999999"; // > 2^64 as well
  const justOver = "9007199254740993"; // 2^53 + 1, not representable as a double
  test("huge start is past the end", () => {
    expect(parseRange(`bytes=${huge}-`, 10)).toEqual(unsat);
    expect(parseRange(`bytes=${huge}-${huge}`, 10)).toEqual(unsat);
    expect(parseRange(`bytes=${justOver}-`, 2 ** 53 - 1)).toEqual(unsat);
  });
  test("huge end clamps", () => {
    expect(parseRange(`bytes=0-${huge}`, 10)).toEqual(part(0, 9));
    expect(parseRange(`bytes=4-${justOver}`, 10)).toEqual(part(4, 9));
  });
  test("huge suffix is the whole object as a 206", () => {
    expect(parseRange(`bytes=-${huge}`, 10)).toEqual(part(0, 9));
  });
  test("ordering of two huge values is exact", () => {
    // 2^53+1 vs 2^53 collapse to the same double; the parser must still see last < first.
    expect(parseRange("bytes=9007199254740993-9007199254740992", 10)).toEqual(full);
    expect(parseRange(`bytes=${huge}1-${huge}`, 10)).toEqual(full);
  });
  test("large but safe sizes keep exact offsets", () => {
    const size = 5 * 2 ** 40; // 5 TiB, the S3 object limit
    expect(parseRange("bytes=5497558138879-", size)).toEqual(part(5497558138879, size - 1));
    expect(parseRange("bytes=-1", size)).toEqual(part(size - 1, size - 1));
    expect(parseRange(`bytes=${size}-`, size)).toEqual(unsat);
  });
});

describe("Content-Range", () => {
  test("contentRange formats a 206 span", () => {
    expect(contentRange(0, 8, 10)).toBe("bytes 0-8/10");
    expect(contentRange(9, 9, 10)).toBe("bytes 9-9/10");
  });
  test("unsatisfiedContentRange formats the 416 form", () => {
    expect(unsatisfiedContentRange(10)).toBe("bytes */10");
  });
  test("round trip with parseRange", () => {
    const r = parseRange("bytes=-2", 10);
    if (r.kind !== "partial") throw new Error("expected partial");
    expect(contentRange(r.start, r.end, 10)).toBe("bytes 8-9/10");
  });
});
