// Which runtime runs us: Bun (src/cli.ts, the compiled executable) or Node (dist/node bundle).
export const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
