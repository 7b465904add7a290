// The Signature Version 4 credential scope (`AKID/yyyymmdd/region/s3/aws4_request`) and the
// request dates it is checked against, shared by header, presigned and POST-policy auth.
import { S3Error } from "../errors.ts";

export interface CredentialScope {
  accessKey: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
}

export function splitCredential(credential: string): CredentialScope | null {
  const parts = credential.split("/");
  if (parts.length < 5) return null;
  // Access keys never contain '/', but the scope is always the last four parts, so take it from the end.
  const [date, region, service, terminator] = parts.slice(-4);
  const accessKey = parts.slice(0, -4).join("/");
  if (accessKey === "") return null;
  return { accessKey, date, region, service, terminator };
}

const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses `yyyymmddThhmmssZ`; null when malformed or not a real calendar time. */
export function parseAmzDate(s: string): Date | null {
  const m = AMZ_DATE_RE.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return null;
  return date;
}

export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/** Parses an HTTP date (RFC 1123; Date.parse also accepts the obsolete forms). */
export function parseHttpDate(s: string): Date | null {
  const t = Date.parse(s);
  if (Number.isNaN(t)) return null;
  return new Date(t);
}

/**
 * The scope matches the request's date, this region, the service (S3, or IAM for the IAM API) and
 * the V4 terminator, or S3's error for which does not. IAM is global: its clients sign for
 * us-east-1 whatever region they are set to, so that is accepted too.
 */
export function checkScope(
  cred: { date: string; region: string; service: string; terminator: string },
  requestDate: string,
  opts: { region: string; service?: "s3" | "iam" },
  code: "AuthorizationHeaderMalformed" | "AuthorizationQueryParametersError",
): void {
  const prefix = code === "AuthorizationHeaderMalformed" ? "The authorization header is malformed" : "Error parsing the X-Amz-Credential parameter";
  if (!/^\d{8}$/.test(cred.date) || cred.date !== requestDate.slice(0, 8)) {
    throw new S3Error(code, `${prefix}; incorrect date format '${cred.date}'. This date in the credential must be in the format "yyyyMMdd" and match the request date '${requestDate.slice(0, 8)}'.`);
  }
  const service = opts.service ?? "s3";
  if (cred.region !== opts.region && !(service === "iam" && cred.region === "us-east-1")) {
    throw new S3Error(code, `${prefix}; the region '${cred.region}' is wrong; expecting '${opts.region}'`, { Region: opts.region });
  }
  if (cred.service !== service) {
    throw new S3Error(code, `${prefix}; incorrect service '${cred.service}'. This endpoint belongs to '${service}'.`);
  }
  if (cred.terminator !== "aws4_request") {
    throw new S3Error(code, `${prefix}; incorrect terminal '${cred.terminator}'. This endpoint uses 'aws4_request'.`);
  }
}

/** An X-Amz-Credential given as a parameter (presigned URL, POST form), checked against the date. */
export function credentialParameter(credential: string, amzDate: string, opts: { region: string }): CredentialScope {
  const cred = splitCredential(credential);
  if (!cred) {
    throw new S3Error("AuthorizationQueryParametersError", `Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  checkScope(cred, amzDate, opts, "AuthorizationQueryParametersError");
  return cred;
}
