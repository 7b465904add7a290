// Kept only for scripts/ (bench-list, bench-multipart, xml-cost) until they import tests/support/
// directly; tests import tests/support/index.ts.
export * from "../support/env.ts";
export * from "../support/clients.ts";
export * from "../support/gateway.ts";
