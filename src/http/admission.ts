// Two admission pools. Requests that have proven who they are (a SigV4 header or presigned URL that
// verified, a PostObject whose form policy verified) share --max-requests; requests that have not
// (no credentials yet, a CORS preflight, a PostObject still reading its form) share the small
// --max-unsigned pool. Anonymous clients, however many and however slow, then only ever compete
// with each other: signed traffic keeps its slots.
import { S3Error } from "../errors.ts";

export interface AdmissionCounters {
  inFlight: number;
  unsignedInFlight: number;
  rejectedBusy: number;
}

export interface AdmissionLimits {
  maxRequests: number;
  maxUnsigned: number;
}

/** True when the request carries credentials to verify (header or presigned query). */
export function carriesCredentials(headers: Headers, url: string): boolean {
  return headers.has("authorization") || /[?&]X-Amz-(?:Signature|Credential)=/i.test(url) || /[?&](?:Signature|AWSAccessKeyId)=/.test(url);
}

/** One request's slot. `release` exactly once, in a finally. */
export class Admission {
  private pool: "signed" | "unsigned" | null = null;

  constructor(
    private readonly counters: AdmissionCounters,
    private readonly limits: AdmissionLimits,
  ) {}

  /** Takes a slot in the pool; SlowDown when it is full. */
  enter(pool: "signed" | "unsigned"): void {
    if (this.pool === pool) return;
    const full = pool === "signed" ? this.counters.inFlight >= this.limits.maxRequests : this.counters.unsignedInFlight >= this.limits.maxUnsigned;
    if (full) {
      this.counters.rejectedBusy++;
      throw new S3Error("SlowDown");
    }
    this.release();
    if (pool === "signed") this.counters.inFlight++;
    else this.counters.unsignedInFlight++;
    this.pool = pool;
  }

  get current(): "signed" | "unsigned" | null {
    return this.pool;
  }

  release(): void {
    if (this.pool === "signed") this.counters.inFlight--;
    else if (this.pool === "unsigned") this.counters.unsignedInFlight--;
    this.pool = null;
  }
}
