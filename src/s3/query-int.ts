// Integer query parameters (max-keys, max-parts, max-uploads, part-number-marker): S3 takes plain
// decimal digits up to 2^31-1 and refuses anything else with one message.
import { S3Error } from "../errors.ts";

export function parseQueryInt(raw: string, name: string): number {
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2147483647) {
    throw new S3Error("InvalidArgument", `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: raw });
  }
  return Number(raw);
}
