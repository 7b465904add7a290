// Configuration: command-line flags, each with an env-var twin, validated by one zod schema.
// A bad value is reported as one line naming the flag, and the process exits with code 2.
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { availableParallelism } from "node:os";
import { z } from "zod";

export const VERSION = "0.1.0";

/** flag name → env var, default, help. The order here is the order of `--help`. */
const FLAGS = {
  root: { env: "FILEGATE_ROOT", def: "./data", help: "directory served as buckets (created if missing)" },
  port: { env: "FILEGATE_PORT", def: "7070", help: "TCP port to listen on" },
  host: { env: "FILEGATE_HOST", def: "127.0.0.1", help: "address to listen on" },
  region: { env: "FILEGATE_REGION", def: "us-east-1", help: "region reported to clients and required in signatures" },
  "virtual-domain": { env: "FILEGATE_VIRTUAL_DOMAIN", def: "", help: "enable virtual-hosted style: bucket.DOMAIN" },
  "owner-id": { env: "FILEGATE_OWNER_ID", def: "", help: "canonical owner ID shown in listings and ACLs" },
  "owner-name": { env: "FILEGATE_OWNER_NAME", def: "filegate", help: "owner display name" },
  meta: { env: "FILEGATE_META", def: "auto", help: "metadata store: auto | xattr | sidecar" },
  fsync: { env: "FILEGATE_FSYNC", def: "file", help: "durability before a write is acknowledged: none | file | full" },
  "default-checksum": { env: "FILEGATE_DEFAULT_CHECKSUM", def: "none", help: "checksum computed for uploads that send none, as AWS does since 2025: none | crc64nvme (costs PUT throughput)" },
  workers: { env: "FILEGATE_WORKERS", def: String(availableParallelism()), help: "server processes sharing the port" },
  "shutdown-timeout": { env: "FILEGATE_SHUTDOWN_TIMEOUT", def: "30", help: "seconds to let in-flight requests finish on SIGTERM" },
  readonly: { env: "FILEGATE_READONLY", def: "", help: "refuse every write with 403 AccessDenied" },
  "no-sigv2": { env: "FILEGATE_NO_SIGV2", def: "", help: "refuse Signature Version 2 (accepted by default, for old clients)" },
  "max-requests": { env: "FILEGATE_MAX_REQUESTS", def: "1024", help: "signed requests handled at once; more get 503 SlowDown" },
  "max-unsigned": { env: "FILEGATE_MAX_UNSIGNED", def: "64", help: "requests not yet proven signed (form uploads reading their form, CORS preflights, anonymous) handled at once" },
  "access-log": { env: "FILEGATE_ACCESS_LOG", def: "-", help: "JSON access log: a file path, or - for stdout" },
  cert: { env: "FILEGATE_CERT", def: "", help: "TLS certificate (PEM); with --key serves HTTPS (no sendfile)" },
  key: { env: "FILEGATE_KEY", def: "", help: "TLS private key (PEM); reloaded with the certificate on SIGHUP" },
  "posix-permissions": { env: "FILEGATE_POSIX_PERMISSIONS", def: "", help: "users with a Unix uid/gid also obey the mode bits of the files and directories a request touches" },
  "block-public": { env: "FILEGATE_BLOCK_PUBLIC", def: "", help: "never serve anonymous requests or accept public bucket policies: every bucket behaves as if all four Block Public Access settings were on" },
  quiet: { env: "FILEGATE_QUIET", def: "", help: "no start-up banner and no access log" },
} as const;

type FlagName = keyof typeof FLAGS;
const BOOLEAN_FLAGS = new Set(["quiet", "readonly", "no-sigv2", "posix-permissions", "block-public"]);

const BOOL = z.union([z.literal(""), z.literal("0"), z.literal("1"), z.literal("true"), z.literal("false")]);
const isTrue = (v: string) => v === "1" || v === "true";

const schema = z.object({
  root: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  region: z.string().regex(/^[a-z0-9-]{1,32}$/, "must look like us-east-1"),
  "virtual-domain": z
    .string()
    .regex(/^$|^[a-z0-9.-]+(:\d+)?$/i, "must be a DNS name such as s3.example.test")
    .transform((s) => s.toLowerCase()),
  "owner-id": z.string().regex(/^$|^[A-Za-z0-9]{1,64}$/, "must be 1-64 letters or digits"),
  "owner-name": z.string().min(1).max(64),
  meta: z.enum(["auto", "xattr", "sidecar"]),
  fsync: z.enum(["none", "file", "full"]),
  "default-checksum": z.enum(["none", "crc64nvme"]),
  "shutdown-timeout": z.coerce.number().min(0).max(3600),
  workers: z.coerce.number().int().min(1).max(256),
  quiet: BOOL,
  readonly: BOOL,
  "no-sigv2": BOOL,
  "posix-permissions": BOOL,
  "block-public": BOOL,
  "max-requests": z.coerce.number().int().min(1).max(1_000_000),
  "max-unsigned": z.coerce.number().int().min(1).max(1_000_000),
  "access-log": z.string().min(1),
  cert: z.string(),
  key: z.string(),
  "access-key": z.string().regex(/^[A-Za-z0-9]{3,128}$/, "must be 3-128 letters or digits").optional(),
  "secret-key": z.string().min(8, "must be at least 8 characters").max(128).optional(),
});

export interface Config {
  root: string;
  port: number;
  host: string;
  region: string;
  virtualDomain: string | null;
  ownerId: string;
  ownerName: string;
  meta: "auto" | "xattr" | "sidecar";
  fsync: "none" | "file" | "full";
  shutdownTimeoutMs: number;
  workers: number;
  quiet: boolean;
  readonly: boolean;
  /** Users with a Unix uid/gid also obey the tree's mode bits (src/access/unix.ts). */
  posixPermissions: boolean;
  /** --block-public: Block Public Access on for every bucket, whatever the bucket's own settings. */
  blockPublic: boolean;
  /** Accept Signature Version 2 (header, presigned URL, POST policy); off with --no-sigv2. */
  sigv2: boolean;
  maxRequests: number;
  /** Computed for PutObject and PostObject bodies that declare no checksum (null: none). */
  defaultChecksum: "CRC64NVME" | null;
  maxUnsigned: number;
  /** "-" for stdout, else a file path. */
  accessLog: string;
  tls: { cert: string; key: string } | null;
  /** Bearer token required by /_filegate/metrics (env FILEGATE_METRICS_TOKEN only). */
  metricsToken: string | null;
  /** How long a directory must have been unchanged before its listing is cached or indexed
   * (dir-listing.ts); env FILEGATE_LISTING_QUIET_MS only, for tests. */
  listingQuietMs?: number;
  /** From FILEGATE_ACCESS_KEY / FILEGATE_SECRET_KEY only: secrets never go on a command line. */
  accessKey?: string;
  secretKey?: string;
}

export class ConfigError extends Error {}

function quietMs(v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (!/^\d{1,7}$/.test(v)) throw new ConfigError(`invalid FILEGATE_LISTING_QUIET_MS '${v}': give milliseconds`);
  return Number(v);
}

export type Command =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "serve"; config: Config }
  | { kind: "cleanup-uploads"; root: string; olderThanMs: number }
  | { kind: "versions"; action: "list" | "purge"; bucket: string; root: string; meta: "auto" | "xattr" | "sidecar"; dryRun: boolean };

/** `7d`, `12h`, `30m`, `45s` or plain milliseconds → milliseconds (cleanup-uploads --older-than). */
export function parseAge(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new ConfigError(`invalid --older-than '${s}': give an age such as 7d, 12h or 30m`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "ms") as "ms"];
  return Number(m[1]) * unit;
}

export function helpText(): string {
  const lines = [
    `filegate ${VERSION} — S3-compatible gateway over a POSIX directory tree`,
    "",
    "usage: filegate [serve] [flags]",
    "       filegate cleanup-uploads --root DIR --older-than AGE   (AGE like 7d, 12h, 30m)",
    "         removes multipart uploads started more than AGE ago, and temp files idle that long",
    "       filegate user add|list|remove|key|policy …   (users of the root; `filegate user` for details)",
    "       filegate versions list BUCKET --root DIR",
    "         prints every version and delete marker of a bucket (key, version id, latest, kind, size, time)",
    "       filegate versions purge BUCKET --root DIR [--dry-run]",
    "         removes every noncurrent version and delete marker; current objects stay",
    "",
    "flags (each also read from the env var shown):",
  ];
  for (const [name, f] of Object.entries(FLAGS)) {
    const def = f.def ? ` (default ${f.def})` : "";
    const flag = BOOLEAN_FLAGS.has(name) ? `--${name}` : `--${name} V`;
    lines.push(`  ${flag.padEnd(22)} ${f.env.padEnd(26)} ${f.help}${def}`);
  }
  lines.push("  --help, --version");
  lines.push("", "FILEGATE_METRICS_TOKEN: when set, /_filegate/metrics requires `Authorization: Bearer <token>`.");
  lines.push("", "credentials: FILEGATE_ACCESS_KEY and FILEGATE_SECRET_KEY; when unset, a random pair is");
  lines.push("generated on first start and kept in ROOT/.filegate/credentials (mode 0600).");
  return lines.join("\n");
}

export function parseCommand(argv: string[], env: Record<string, string | undefined>): Command {
  const options = Object.fromEntries(
    Object.keys(FLAGS).map((k) => [k, { type: BOOLEAN_FLAGS.has(k) ? "boolean" : "string" }]),
  ) as Record<FlagName, { type: "string" | "boolean" }>;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, "older-than": { type: "string" }, "dry-run": { type: "boolean" }, help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new ConfigError(String((e as Error).message).split("\n")[0]);
  }
  if (parsed.values.help) return { kind: "help" };
  if (parsed.values.version) return { kind: "version" };
  const positionals = parsed.positionals;
  if (positionals.length === 1 && positionals[0] === "cleanup-uploads") {
    const olderThan = (parsed.values as Record<string, string | undefined>)["older-than"];
    if (!olderThan) throw new ConfigError("cleanup-uploads needs --older-than AGE, such as 7d, 12h or 30m");
    const root = (parsed.values as Record<string, string | undefined>).root ?? env.FILEGATE_ROOT ?? FLAGS.root.def;
    return { kind: "cleanup-uploads", root: resolve(root), olderThanMs: parseAge(olderThan) };
  }
  if (positionals[0] === "versions") {
    const [, action, bucket, ...rest] = positionals;
    if ((action !== "list" && action !== "purge") || !bucket || rest.length > 0) throw new ConfigError("usage: filegate versions list|purge BUCKET --root DIR [--dry-run]");
    const dryRun = (parsed.values as Record<string, unknown>)["dry-run"] === true;
    if (dryRun && action !== "purge") throw new ConfigError("--dry-run belongs to 'versions purge'");
    const values = parsed.values as Record<string, string | undefined>;
    const meta = values.meta ?? env.FILEGATE_META ?? FLAGS.meta.def;
    if (meta !== "auto" && meta !== "xattr" && meta !== "sidecar") throw new ConfigError(`invalid --meta '${meta}'`);
    return { kind: "versions", action, bucket, root: resolve(values.root ?? env.FILEGATE_ROOT ?? FLAGS.root.def), meta, dryRun };
  }
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== "serve")) {
    throw new ConfigError(`unknown command '${positionals.join(" ")}' (expected 'serve', 'cleanup-uploads' or 'versions')`);
  }
  if ((parsed.values as Record<string, unknown>)["dry-run"] !== undefined) throw new ConfigError("--dry-run belongs to 'versions purge'");
  if ((parsed.values as Record<string, unknown>)["older-than"] !== undefined) throw new ConfigError("--older-than belongs to 'cleanup-uploads'");

  const raw: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(FLAGS)) {
    const fromFlag = (parsed.values as Record<string, unknown>)[name];
    raw[name] = fromFlag === true ? "1" : ((fromFlag as string | undefined) ?? env[f.env] ?? f.def);
  }
  if (Boolean(raw.cert) !== Boolean(raw.key)) throw new ConfigError("invalid --cert/--key: give both or neither");
  raw["access-key"] = env.FILEGATE_ACCESS_KEY || undefined;
  raw["secret-key"] = env.FILEGATE_SECRET_KEY || undefined;

  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue.path[0]);
    const where = name in FLAGS ? `--${name} (${FLAGS[name as FlagName].env})` : `FILEGATE_${name.toUpperCase().replace("-", "_")}`;
    throw new ConfigError(`invalid ${where}: ${issue.message}`);
  }
  const v = result.data;
  if (Boolean(v["access-key"]) !== Boolean(v["secret-key"])) {
    throw new ConfigError("set both FILEGATE_ACCESS_KEY and FILEGATE_SECRET_KEY, or neither");
  }
  return {
    kind: "serve",
    config: {
      root: resolve(v.root),
      port: v.port,
      host: v.host,
      region: v.region,
      virtualDomain: v["virtual-domain"] || null,
      ownerId: v["owner-id"] || "",
      ownerName: v["owner-name"],
      meta: v.meta,
      fsync: v.fsync,
      defaultChecksum: v["default-checksum"] === "crc64nvme" ? "CRC64NVME" : null,
      shutdownTimeoutMs: v["shutdown-timeout"] * 1000,
      workers: v.workers,
      quiet: isTrue(v.quiet),
      readonly: isTrue(v.readonly),
      posixPermissions: isTrue(v["posix-permissions"]),
      sigv2: !isTrue(v["no-sigv2"]),
      blockPublic: isTrue(v["block-public"]),
      maxRequests: v["max-requests"],
      maxUnsigned: v["max-unsigned"],
      accessLog: v["access-log"],
      tls: v.cert || v.key ? { cert: resolve(v.cert), key: resolve(v.key) } : null,
      metricsToken: env.FILEGATE_METRICS_TOKEN || null,
      listingQuietMs: quietMs(env.FILEGATE_LISTING_QUIET_MS),
      accessKey: v["access-key"],
      secretKey: v["secret-key"],
    },
  };
}
