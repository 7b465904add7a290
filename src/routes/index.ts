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
import { postObjectHandlers } from "./post-object.ts";

export const HANDLERS: Partial<Record<OperationName, Handler>> = {
  ...bucketHandlers,
  ...bucketConfigHandlers,
  ...objectHandlers,
  ...attributeHandlers,
  ...copyHandlers,
  ...corsHandlers,
  ...listHandlers,
  ...multipartHandlers,
  ...postObjectHandlers,
};
