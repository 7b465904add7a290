// What a run needs before the first measurement: the tools, a temp tree, the Node bundle, and
// the test objects stored on every server.
import { CreateBucketCommand, PutBucketPolicyCommand } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareLoadTools, sdkPut, type LoadTools } from "./load.ts";
import { BENCH_POLICY, BUCKET, MiB, type Options } from "./options.ts";
import { presignClient } from "./presign.ts";
import { log, run } from "./proc.ts";
import { credentials, startServer, stopServer, type ServerDirs } from "./servers.ts";

export interface Env extends ServerDirs, LoadTools {
  srcBig: string;
  srcSmall: string;
}

export async function setup(opts: Options, s3rverBin: string): Promise<Env> {
  const tmp = mkdtempSync(join(tmpdir(), "filegate-bench-"));
  // nginx workers drop to an unprivileged user, which must be able to reach the root.
  chmodSync(tmp, 0o755);
  const dirs: ServerDirs = { tmp, root: join(tmp, "root"), s3dir: join(tmp, "s3rver"), s3rverBin, baseSrc: opts.baseSrc };
  mkdirSync(join(dirs.root, BUCKET), { recursive: true });
  mkdirSync(dirs.s3dir, { recursive: true });
  for (const tool of ["nginx", "wrk", "md5sum", "cc"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is required (apt-get install nginx-light wrk gcc coreutils)`);
  }
  const env: Env = { ...dirs, ...prepareLoadTools(tmp), srcBig: join(tmp, "src-big.bin"), srcSmall: join(tmp, "src-small.bin") };
  log("building the Node bundle (bun run build:node)…");
  run(process.execPath, ["run", "build:node"], {});
  log(`writing a ${opts.bigMiB} MiB random file…`);
  run("sh", ["-c", `head -c ${opts.bigMiB * MiB} /dev/urandom > '${env.srcBig}' && head -c 4096 /dev/urandom > '${env.srcSmall}'`]);

  // Objects go in through the S3 API, so filegate serves them with their stored metadata (xattr)
  // as it would in use; nginx serves the very same files.
  log("uploading the objects to filegate and s3rver…");
  for (const name of ["bun", "s3rver"] as const) {
    const s = await startServer(env, opts.workers, name);
    const c = credentials(name);
    if (name === "s3rver") await presignClient(s.endpoint, c).send(new CreateBucketCommand({ Bucket: BUCKET }));
    // s3rver cannot parse aws-chunked trailers.
    const plain = name === "s3rver";
    await sdkPut(s.endpoint, c.accessKeyId, c.secretAccessKey, BUCKET, "big.bin", env.srcBig, plain);
    await sdkPut(s.endpoint, c.accessKeyId, c.secretAccessKey, BUCKET, "small.bin", env.srcSmall, plain);
    if (opts.policy && name === "bun") await presignClient(s.endpoint, c).send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: BENCH_POLICY }));
    await stopServer(s);
  }
  if (statSync(join(env.root, BUCKET, "big.bin")).size !== opts.bigMiB * MiB) throw new Error("upload to filegate failed");
  run("sh", ["-c", `cat '${env.srcBig}' '${join(env.root, BUCKET, "big.bin")}' > /dev/null`]);
  return env;
}
