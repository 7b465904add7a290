// The test kit, for test files. Scripts import the modules they need directly (env, gateway,
// clients, sign, listing-model): expect-s3.ts pulls in bun:test.
export * from "./env.ts";
export * from "./clients.ts";
export * from "./gateway.ts";
export * from "./sign.ts";
export * from "./probes.ts";
export * from "./expect-s3.ts";
export * from "./listing-model.ts";
export * from "./users.ts";
