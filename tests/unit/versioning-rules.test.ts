// S3's null-version rules, as planWrite and planDelete state them (AWS: "Working with objects in
// a versioning-enabled / versioning-suspended bucket", "Deleting object versions").
import { describe, expect, test } from "bun:test";
import { parseVersioningState, planDelete, planWrite } from "../../src/storage/versioning.ts";

const NULL = { versionId: null };
const REAL = { versionId: "01JAAAAAAAAAAAAAAAAAAAAAAA" };

describe("writes", () => {
  test("unversioned: the current object is replaced, no id", () => {
    expect(planWrite(undefined, null)).toEqual({ newId: "null", current: "none", dropNoncurrentNull: false });
    expect(planWrite(undefined, NULL)).toEqual({ newId: "null", current: "replace", dropNoncurrentNull: false });
  });
  test("enabled: a new id, the current object kept whatever its id (the null version too)", () => {
    expect(planWrite("Enabled", null)).toEqual({ newId: "new", current: "none", dropNoncurrentNull: false });
    expect(planWrite("Enabled", NULL)).toEqual({ newId: "new", current: "keep", dropNoncurrentNull: false });
    expect(planWrite("Enabled", REAL)).toEqual({ newId: "new", current: "keep", dropNoncurrentNull: false });
  });
  test("suspended: the write is the null version; a current null version is overwritten, a real one kept", () => {
    expect(planWrite("Suspended", null)).toEqual({ newId: "null", current: "none", dropNoncurrentNull: true });
    expect(planWrite("Suspended", NULL)).toEqual({ newId: "null", current: "replace", dropNoncurrentNull: true });
    expect(planWrite("Suspended", REAL)).toEqual({ newId: "null", current: "keep", dropNoncurrentNull: true });
  });
});

describe("deletes without a version id", () => {
  test("unversioned: the object goes, no marker", () => {
    expect(planDelete(undefined, NULL)).toEqual({ marker: "none", current: "remove", dropNoncurrentNull: false });
    expect(planDelete(undefined, null)).toEqual({ marker: "none", current: "none", dropNoncurrentNull: false });
  });
  test("enabled: a marker with a new id, even for a missing key; nothing removed", () => {
    expect(planDelete("Enabled", null)).toEqual({ marker: "new", current: "none", dropNoncurrentNull: false });
    expect(planDelete("Enabled", NULL)).toEqual({ marker: "new", current: "keep", dropNoncurrentNull: false });
    expect(planDelete("Enabled", REAL)).toEqual({ marker: "new", current: "keep", dropNoncurrentNull: false });
  });
  test("suspended: a null marker replaces the null version wherever it is; a real current version is kept", () => {
    expect(planDelete("Suspended", NULL)).toEqual({ marker: "null", current: "remove", dropNoncurrentNull: true });
    expect(planDelete("Suspended", REAL)).toEqual({ marker: "null", current: "keep", dropNoncurrentNull: true });
    expect(planDelete("Suspended", null)).toEqual({ marker: "null", current: "none", dropNoncurrentNull: true });
  });
});

test("the setting's text", () => {
  expect(parseVersioningState("Enabled")).toBe("Enabled");
  expect(parseVersioningState("Suspended\n")).toBe("Suspended");
  expect(parseVersioningState(undefined)).toBeUndefined();
  expect(parseVersioningState("enabled")).toBeUndefined();
});
