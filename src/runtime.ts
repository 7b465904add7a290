// Which runtime runs us — Bun (src/cli.ts, the compiled executable) or Node (dist/node bundle) —
// and its implementation of the one interface where the two differ (src/serve/types.ts).
import { bunRuntime } from "./serve/bun-runtime.ts";
import { nodeRuntime } from "./serve/node-runtime.ts";
import type { Runtime } from "./serve/types.ts";

export const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export const runtime: Runtime = isBun ? bunRuntime : nodeRuntime;
