// Kept only for scripts/ (bench-list, xml-cost) until they import tests/support/sign.ts directly.
export * from "../support/sign.ts";
