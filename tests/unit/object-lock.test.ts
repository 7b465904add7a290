import { describe, expect, test } from "bun:test";
import {
  bypassRequested,
  decodeLockConfig,
  defaultRetention,
  encodeLockConfig,
  isLocked,
  lockConfigXml,
  lockFromHeaders,
  lockHeaders,
  newVersionLock,
  parseLegalHoldXml,
  parseLockConfigXml,
  parseRetainUntil,
  parseRetentionXml,
  removalBlock,
  requireLockIntegrity,
  retentionChangeBlock,
  type LockMode,
  type Retention,
} from "../../src/s3/object-lock.ts";
import { renderXml } from "../../src/xml/index.ts";

const NOW = Date.parse("2026-12-04T10:00:00.000Z");
const later = (ms: number) => new Date(NOW + ms).toISOString();
const HOUR = 3_600_000;

function failure(f: () => unknown): [string, string] | null {
  try {
    f();
  } catch (e) {
    return [(e as { code: string }).code, (e as Error).message];
  }
  return null;
}

describe("ObjectLockConfiguration", () => {
  const doc = (inner: string) => `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</ObjectLockConfiguration>`;

  test("enabled alone, days, years; renders back to what it parsed", () => {
    expect(parseLockConfigXml(doc("<ObjectLockEnabled>Enabled</ObjectLockEnabled>"))).toEqual({ enabled: true });
    const days = parseLockConfigXml(doc("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>3</Days></DefaultRetention></Rule>"));
    expect(days).toEqual({ enabled: true, rule: { mode: "GOVERNANCE", days: 3 } });
    const years = parseLockConfigXml(doc("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>2</Years></DefaultRetention></Rule>"));
    expect(years).toEqual({ enabled: true, rule: { mode: "COMPLIANCE", years: 2 } });
    for (const c of [days, years, { enabled: true as const }]) {
      expect(parseLockConfigXml(renderXml("ObjectLockConfiguration", lockConfigXml(c)))).toEqual(c);
      expect(decodeLockConfig(encodeLockConfig(c))).toEqual(c);
    }
    expect(decodeLockConfig(undefined)).toBeUndefined();
    expect(decodeLockConfig("{broken")).toBeUndefined();
  });

  test("refusals: not Enabled, both or neither period, bad mode, zero, too long, strangers", () => {
    const rule = (r: string) => doc(`<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>${r}</DefaultRetention></Rule>`);
    expect(failure(() => parseLockConfigXml(doc("<ObjectLockEnabled>Disabled</ObjectLockEnabled>")))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseLockConfigXml(doc("")))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseLockConfigXml(rule("<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>")))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseLockConfigXml(rule("<Mode>GOVERNANCE</Mode>")))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseLockConfigXml(rule("<Mode>LOOSE</Mode><Days>1</Days>")))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseLockConfigXml(rule("<Days>1</Days>")))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseLockConfigXml(rule("<Mode>GOVERNANCE</Mode><Days>0</Days>")))).toEqual(["InvalidArgument", "Default retention period must be a positive integer value."]);
    expect(failure(() => parseLockConfigXml(rule("<Mode>GOVERNANCE</Mode><Days>-2</Days>")))?.[0]).toBe("InvalidArgument");
    expect(failure(() => parseLockConfigXml(rule("<Mode>GOVERNANCE</Mode><Years>101</Years>")))?.[0]).toBe("InvalidArgument");
    expect(failure(() => parseLockConfigXml(rule("<Mode>GOVERNANCE</Mode><Days>1.5</Days>")))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseLockConfigXml(doc("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Token>x</Token>")))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseLockConfigXml("<Retention/>"))?.[0]).toBe("MalformedXML");
  });

  test("default retention: days are 24 h, years are calendar years", () => {
    expect(defaultRetention({ enabled: true }, NOW)).toBeUndefined();
    expect(defaultRetention(undefined, NOW)).toBeUndefined();
    expect(defaultRetention({ enabled: true, rule: { mode: "GOVERNANCE", days: 2 } }, NOW)).toEqual({ mode: "GOVERNANCE", until: "2026-12-06T10:00:00.000Z" });
    expect(defaultRetention({ enabled: true, rule: { mode: "COMPLIANCE", years: 1 } }, Date.parse("2028-02-29T00:00:00Z"))).toEqual({ mode: "COMPLIANCE", until: "2029-03-01T00:00:00.000Z" });
  });
});

describe("Retention and LegalHold documents", () => {
  test("retention: parsed and normalised; empty means removal; the date must be in the future", () => {
    expect(parseRetentionXml(`<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2026-12-05T00:00:00Z</RetainUntilDate></Retention>`, NOW)).toEqual({
      mode: "COMPLIANCE",
      until: "2026-12-05T00:00:00.000Z",
    });
    expect(parseRetentionXml("<Retention/>", NOW)).toBeUndefined();
    expect(failure(() => parseRetentionXml(`<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2020-01-01T00:00:00Z</RetainUntilDate></Retention>`, NOW))).toEqual([
      "InvalidArgument",
      "The retain until date must be in the future!",
    ]);
    expect(failure(() => parseRetentionXml(`<Retention><Mode>COMPLIANCE</Mode></Retention>`, NOW))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseRetentionXml(`<Retention><Mode>SOFT</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>`, NOW))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseRetentionXml(`<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>tomorrow</RetainUntilDate></Retention>`, NOW))?.[0]).toBe("MalformedXML");
  });

  test("dates: zones and fractions as S3 sends them", () => {
    expect(parseRetainUntil("2030-01-01T00:00:00.123456Z")).toBe("2030-01-01T00:00:00.123Z");
    expect(parseRetainUntil("2030-01-01T02:00:00+02:00")).toBe("2030-01-01T00:00:00.000Z");
    // A calendar date that does not exist is not rolled over into the next month.
    expect(parseRetainUntil("2030-02-30T00:00:00Z")).toBeNull();
    expect(parseRetainUntil("2032-02-29T00:00:00Z")).toBe("2032-02-29T00:00:00.000Z");
    expect(parseRetainUntil("2030-01-01")).toBeNull();
    expect(parseRetainUntil("2030-13-01T00:00:00Z")).toBeNull();
  });

  test("legal hold: ON or OFF only", () => {
    expect(parseLegalHoldXml("<LegalHold><Status>ON</Status></LegalHold>")).toBe(true);
    expect(parseLegalHoldXml("<LegalHold><Status>OFF</Status></LegalHold>")).toBe(false);
    expect(failure(() => parseLegalHoldXml("<LegalHold><Status>on</Status></LegalHold>"))?.[0]).toBe("MalformedXML");
    expect(failure(() => parseLegalHoldXml("<LegalHold/>"))?.[0]).toBe("MalformedXML");
  });
});

describe("headers of a write", () => {
  const h = (o: Record<string, string>) => new Headers(o);

  test("none, retention, hold, both; and their refusals", () => {
    expect(lockFromHeaders(h({}), NOW)).toBeNull();
    expect(lockFromHeaders(h({ "x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": later(HOUR) }), NOW)).toEqual({ retention: { mode: "GOVERNANCE", until: later(HOUR) } });
    expect(lockFromHeaders(h({ "x-amz-object-lock-legal-hold": "ON" }), NOW)).toEqual({ legalHold: true });
    expect(failure(() => lockFromHeaders(h({ "x-amz-object-lock-mode": "GOVERNANCE" }), NOW))).toEqual([
      "InvalidArgument",
      "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
    ]);
    expect(failure(() => lockFromHeaders(h({ "x-amz-object-lock-mode": "X", "x-amz-object-lock-retain-until-date": later(HOUR) }), NOW))).toEqual(["InvalidArgument", "Unknown wormMode directive."]);
    expect(failure(() => lockFromHeaders(h({ "x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": later(-HOUR) }), NOW))?.[1]).toBe("The retain until date must be in the future!");
    expect(failure(() => lockFromHeaders(h({ "x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": "soon" }), NOW))?.[0]).toBe("InvalidArgument");
    expect(failure(() => lockFromHeaders(h({ "x-amz-object-lock-legal-hold": "yes" }), NOW))?.[0]).toBe("InvalidArgument");
  });

  test("a new version: its headers win over the default rule; headers without a lock-enabled bucket are refused", () => {
    const config = { enabled: true as const, rule: { mode: "COMPLIANCE" as const, days: 1 } };
    expect(newVersionLock(null, config, NOW)).toEqual({ retention: { mode: "COMPLIANCE", until: later(24 * HOUR) } });
    expect(newVersionLock({ retention: { mode: "GOVERNANCE", until: later(HOUR) } }, config, NOW)).toEqual({ retention: { mode: "GOVERNANCE", until: later(HOUR) } });
    expect(newVersionLock({ legalHold: true }, config, NOW)).toEqual({ retention: { mode: "COMPLIANCE", until: later(24 * HOUR) }, legalHold: true });
    expect(newVersionLock(null, undefined, NOW)).toEqual({});
    expect(failure(() => newVersionLock({ legalHold: true }, undefined, NOW))).toEqual(["InvalidRequest", "Bucket is missing Object Lock Configuration"]);
  });

  test("integrity: Content-MD5, a checksum header or a trailer checksum", () => {
    expect(failure(() => requireLockIntegrity(h({ "content-md5": "x" })))).toBeNull();
    expect(failure(() => requireLockIntegrity(h({ "x-amz-checksum-crc32": "x" })))).toBeNull();
    expect(failure(() => requireLockIntegrity(h({ "x-amz-trailer": "x-amz-checksum-crc64nvme" })))).toBeNull();
    expect(failure(() => requireLockIntegrity(h({ "x-amz-checksum-type": "FULL_OBJECT" })))).toEqual([
      "InvalidRequest",
      "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
    ]);
    expect(bypassRequested(h({ "x-amz-bypass-governance-retention": "True" }))).toBe(true);
    expect(bypassRequested(h({}))).toBe(false);
  });
});

describe("enforcement", () => {
  const gov: Retention = { mode: "GOVERNANCE", until: later(HOUR) };
  const comp: Retention = { mode: "COMPLIANCE", until: later(HOUR) };
  const expired: Retention = { mode: "COMPLIANCE", until: later(-1) };

  test("removal: legal hold always blocks; compliance always; governance unless bypassed; expired never", () => {
    expect(removalBlock(undefined, false, NOW)).toBeNull();
    expect(removalBlock({}, false, NOW)).toBeNull();
    expect(removalBlock({ legalHold: true }, true, NOW)).toBe("legal-hold");
    expect(removalBlock({ legalHold: false, retention: gov }, false, NOW)).toBe("GOVERNANCE");
    expect(removalBlock({ retention: gov }, true, NOW)).toBeNull();
    expect(removalBlock({ retention: comp }, true, NOW)).toBe("COMPLIANCE");
    expect(removalBlock({ retention: expired }, false, NOW)).toBeNull();
    expect(removalBlock({ retention: comp }, false, Date.parse(comp.until))).toBeNull(); // ends exactly at its date
    expect(isLocked({ retention: expired }, NOW)).toBe(false);
    expect(isLocked({ retention: expired, legalHold: true }, NOW)).toBe(true);
  });

  test("retention changes: only a later date in the same mode while in force, governance bypassable, compliance never", () => {
    const longer = (r: Retention, mode: LockMode = r.mode): Retention => ({ mode, until: later(2 * HOUR) });
    const shorter = (r: Retention, mode: LockMode = r.mode): Retention => ({ mode, until: later(HOUR / 2) });
    expect(retentionChangeBlock(undefined, comp, false, NOW)).toBeNull();
    expect(retentionChangeBlock(comp, longer(comp), false, NOW)).toBeNull();
    expect(retentionChangeBlock(comp, comp, false, NOW)).toBeNull();
    expect(retentionChangeBlock(comp, shorter(comp), true, NOW)).toBe("COMPLIANCE");
    expect(retentionChangeBlock(comp, longer(comp, "GOVERNANCE"), true, NOW)).toBe("COMPLIANCE");
    expect(retentionChangeBlock(comp, undefined, true, NOW)).toBe("COMPLIANCE");
    expect(retentionChangeBlock(gov, longer(gov), false, NOW)).toBeNull();
    // A mode change alters the lock settings: GOVERNANCE → COMPLIANCE takes the bypass, as on AWS.
    expect(retentionChangeBlock(gov, longer(gov, "COMPLIANCE"), false, NOW)).toBe("GOVERNANCE");
    expect(retentionChangeBlock(gov, { mode: "COMPLIANCE", until: gov.until }, false, NOW)).toBe("GOVERNANCE");
    expect(retentionChangeBlock(gov, longer(gov, "COMPLIANCE"), true, NOW)).toBeNull();
    expect(retentionChangeBlock(gov, shorter(gov), false, NOW)).toBe("GOVERNANCE");
    expect(retentionChangeBlock(gov, shorter(gov), true, NOW)).toBeNull();
    expect(retentionChangeBlock(gov, undefined, false, NOW)).toBe("GOVERNANCE");
    expect(retentionChangeBlock(gov, undefined, true, NOW)).toBeNull();
    expect(retentionChangeBlock(expired, undefined, false, NOW)).toBeNull();
  });

  test("GET/HEAD headers", () => {
    expect(lockHeaders(undefined)).toEqual({});
    expect(lockHeaders({ retention: comp, legalHold: false })).toEqual({
      "x-amz-object-lock-mode": "COMPLIANCE",
      "x-amz-object-lock-retain-until-date": comp.until,
      "x-amz-object-lock-legal-hold": "OFF",
    });
  });
});
