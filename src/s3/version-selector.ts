// What a versionId parameter may hold: "null" or an id in the form filegate mints. Anything else
// is InvalidArgument before storage is asked, as S3 refuses ids it could never have issued.
import { isVersionId } from "../storage/version-id.ts";

export function isVersionSelector(v: string): boolean {
  return v === "null" || isVersionId(v);
}
