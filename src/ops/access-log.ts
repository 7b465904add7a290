// One JSON line per request. Only the fields below are ever written: no headers, no query string
// (presigned URLs carry credentials there), no signature.
import { createWriteStream, type WriteStream } from "node:fs";

export interface AccessRecord {
  time: string;
  requestId: string;
  remote: string | null;
  accessKey: string | null;
  /** The user the request acted for (null: anonymous, or refused before it was known). */
  user: string | null;
  operation: string;
  bucket: string | null;
  key: string | null;
  status: number;
  error: string | null;
  bytesIn: number;
  bytesOut: number;
  ms: number;
}

export class AccessLog {
  private readonly out: WriteStream | NodeJS.WriteStream;
  constructor(destination: string) {
    this.out = destination === "-" ? process.stdout : createWriteStream(destination, { flags: "a", mode: 0o640 });
  }
  write(r: AccessRecord): void {
    this.out.write(JSON.stringify(r) + "\n");
  }
  /** Flushes and closes a log file (stdout stays open). */
  close(): Promise<void> {
    if (this.out === process.stdout) return Promise.resolve();
    return new Promise((done) => (this.out as WriteStream).end(done));
  }
}
