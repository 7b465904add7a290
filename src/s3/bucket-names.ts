// AWS's rules for naming a new general-purpose bucket: a protocol rule, checked before the store
// is asked to create anything. (Which existing directories the store serves as buckets is the
// store's own rule, in src/storage/posix/names.ts.)
import { S3Error } from "../errors.ts";

/** AWS's rules for naming a new general-purpose bucket. */
export function validateNewBucketName(name: string): void {
  const bad = (why: string) => new S3Error("InvalidBucketName", `The specified bucket is not valid: ${why}.`, { BucketName: name });
  if (name.length < 3 || name.length > 63) throw bad("length must be 3 to 63 characters");
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    throw bad("use lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit");
  }
  if (name.includes("..")) throw bad("no two adjacent periods");
  // Each dot-separated label starts and ends with a letter or digit (DNS-compatible names).
  if (name.includes(".-") || name.includes("-.")) throw bad("no hyphen next to a period");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) throw bad("must not be formatted as an IP address");
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) throw bad("reserved prefix");
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) throw bad("reserved suffix");
}
