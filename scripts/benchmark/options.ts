// Command-line options of scripts/bench, and the fixed names every module of the run shares.
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
export const MiB = 1024 * 1024;
export const ACCESS_KEY = "BENCHACCESSKEY000001";
export const SECRET_KEY = "bench/secret+key0000000000000000000000000";
export const REGION = "us-east-1";
/** The bucket holding big.bin and small.bin on every server. */
export const BUCKET = "bench";

export interface Options {
  workers: number;
  rounds: number;
  seconds: number;
  rangeSeconds: number;
  bigMiB: number;
  putKeys: number;
  only: Set<string> | null;
  servers: Set<string> | null;
  doc: string | null;
  keep: boolean;
  s3rverDir: string;
  /** Put BENCH_POLICY on filegate's bench bucket first: the cost of deciding with a policy present. */
  policy: boolean;
  /** A checkout of another revision run as an extra server beside filegate Bun (log and JSON only). */
  baseSrc: string | null;
}

const HELP = [
  "usage: scripts/bench [options]",
  "  --workers N        worker processes for nginx and both filegates (default 1; s3rver has one)",
  "  --rounds R         interleaved rounds, medians reported (default 3)",
  "  --seconds S        duration of each 4 KiB GET/PUT run (default 4)",
  "  --range-seconds S  duration of each ranged-GET run (default 3)",
  "  --big-mib M        size of the large object (default 1024)",
  "  --put-keys N       distinct keys (4 KiB PUT) and signatures (header-signed GET) per run (default 60000)",
  "  --only LIST        workloads: get1,get4,range,get4k,get4kh,put1g,put4k,ow4k,ow4kv",
  "  --servers LIST     nginx,floor,bun,node,s3rver (floor: the bare Bun.serve of the small-request rows)",
  "  --doc FILE         where to write the results (default docs/PERFORMANCE.md)",
  "  --no-doc           print only",
  "  --keep             keep the temp directory",
  "  --policy           give filegate's bench bucket a bucket policy (what a request costs with one present)",
  "  --base-src DIR     also run DIR/src/cli.ts (another checkout, with node_modules) wherever filegate Bun runs:",
  "                     a before/after in the same interleaved rounds (in the log and the JSON, not the tables)",
  "  --deps DIR         where s3rver is installed when the repo lacks it (default $TMPDIR/filegate-bench-deps)",
].join("\n");

export function parseOptions(argv: string[]): Options {
  const o: Options = {
    workers: 1,
    rounds: 3,
    seconds: 4,
    rangeSeconds: 3,
    bigMiB: 1024,
    putKeys: 60_000,
    only: null,
    servers: null,
    doc: join(REPO, "docs/PERFORMANCE.md"),
    keep: false,
    s3rverDir: join(tmpdir(), "filegate-bench-deps"),
    policy: false,
    baseSrc: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--workers") o.workers = Number(next());
    else if (a === "--rounds") o.rounds = Number(next());
    else if (a === "--seconds") o.seconds = Number(next());
    else if (a === "--range-seconds") o.rangeSeconds = Number(next());
    else if (a === "--big-mib") o.bigMiB = Number(next());
    else if (a === "--put-keys") o.putKeys = Number(next());
    else if (a === "--only") o.only = new Set(next().split(","));
    else if (a === "--servers") o.servers = new Set(next().split(","));
    else if (a === "--doc") o.doc = resolve(next());
    else if (a === "--no-doc") o.doc = null;
    else if (a === "--keep") o.keep = true;
    else if (a === "--policy") o.policy = true;
    else if (a === "--deps") o.s3rverDir = resolve(next());
    else if (a === "--base-src") o.baseSrc = resolve(next());
    else if (a === "--help" || a === "-h") {
      process.stdout.write(HELP + "\n");
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** A typical policy: public read of a prefix, a user's grant, and a Deny every request is checked against. */
export const BENCH_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Sid: "PublicRead", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET}/public/*` },
    { Sid: "Team", Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:user/alice" }, Action: ["s3:GetObject", "s3:ListBucket"], Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] },
    { Sid: "NoDeletes", Effect: "Deny", Principal: "*", Action: "s3:DeleteObject", Resource: `arn:aws:s3:::${BUCKET}/*`, Condition: { NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } } },
  ],
});
