import { describe, expect, test } from "bun:test";
import { isVersionId, newVersionId, successorOf, versionIdTime, VERSION_ID_LENGTH } from "../../src/storage/version-id.ts";

describe("version ids", () => {
  test("26 characters of Crockford base32, carrying their millisecond", () => {
    const id = newVersionId(1_700_000_000_123);
    expect(id).toHaveLength(VERSION_ID_LENGTH);
    expect(isVersionId(id)).toBe(true);
    expect(versionIdTime(id)).toBe(1_700_000_000_123);
    for (const bad of ["null", "", "abc", id.toLowerCase(), id.slice(1), id + "0", id.slice(0, 25) + "U", id.slice(0, 25) + "I"]) expect(isVersionId(bad)).toBe(false);
  });

  test("sort as text in the order they were made, within a millisecond too", () => {
    const ids: string[] = [];
    for (let i = 0; i < 2000; i++) ids.push(newVersionId(1_700_000_000_000 + Math.floor(i / 500)));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("a clock that steps back still gives ids above the last one and above the floor", () => {
    const later = newVersionId(1_800_000_000_000);
    const earlier = newVersionId(1_700_000_000_000);
    expect(earlier > later).toBe(true);
    // Another host's id ahead of our clock: the new one goes above it, and stays unique.
    const floor = "Z".repeat(10) + "0".repeat(16);
    const a = newVersionId(1_700_000_000_000, floor);
    const b = newVersionId(1_700_000_000_000, floor);
    expect(a > floor && b > a).toBe(true);
  });

  test("successorOf carries", () => {
    expect(successorOf("00")).toBe("01");
    expect(successorOf("0Z")).toBe("10");
    expect(() => successorOf("ZZ")).toThrow();
  });
});
