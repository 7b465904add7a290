// Operation name → handler. Operations absent here answer 501 NotImplemented (see app.ts).
import type { Handler } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";
import { attributeHandlers } from "./attributes.ts";
import { bucketConfigHandlers } from "./bucket-config.ts";
import { bucketHandlers } from "./buckets.ts";
import { copyHandlers } from "./copy.ts";
import { corsHandlers } from "./cors.ts";
import { listHandlers } from "./list.ts";
import { multipartHandlers } from "./multipart.ts";
import { objectHandlers } from "./objects.ts";
import { policyHandlers } from "./policy.ts";
import { postObjectHandlers } from "./post-object.ts";

/**
 * Joins the handler families into one table. An operation handled by two families is a mistake a
 * spread would hide (the later one silently wins): it stops the gateway at start-up instead.
 */
export function combineHandlers(families: Record<string, Partial<Record<OperationName, Handler>>>): Partial<Record<OperationName, Handler>> {
  const table: Partial<Record<OperationName, Handler>> = {};
  const owner = new Map<OperationName, string>();
  for (const [family, handlers] of Object.entries(families)) {
    for (const [op, handler] of Object.entries(handlers) as [OperationName, Handler][]) {
      const first = owner.get(op);
      if (first !== undefined) throw new Error(`operation ${op} has a handler in both ${first} and ${family}`);
      owner.set(op, family);
      table[op] = handler;
    }
  }
  return table;
}

export const HANDLERS = combineHandlers({
  buckets: bucketHandlers,
  "bucket-config": bucketConfigHandlers,
  objects: objectHandlers,
  attributes: attributeHandlers,
  copy: copyHandlers,
  cors: corsHandlers,
  list: listHandlers,
  multipart: multipartHandlers,
  "post-object": postObjectHandlers,
  policy: policyHandlers,
});
