// Multipart upload operations. (Being built: until a handler is listed here, the operation
// answers 501 NotImplemented.)
import type { Handler } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";

export const multipartHandlers: Partial<Record<OperationName, Handler>> = {};
