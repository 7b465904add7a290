// The servers under test: how each is started on a free port, waited for, stopped and, when the
// run dies, killed. Every measurement starts its server fresh (see workloads.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../src/serve/workers.ts";
import { ACCESS_KEY, REPO, SECRET_KEY, type Options } from "./options.ts";
import type { Credentials } from "./presign.ts";
import { killTree, log, run, sleep } from "./proc.ts";

export type ServerName = "nginx" | "floor" | "bun" | "base" | "node" | "s3rver";
export const SERVER_LABEL: Record<ServerName, string> = { nginx: "nginx", floor: "bare Bun.serve", bun: "filegate Bun", base: "filegate Bun (--base-src)", node: "filegate Node", s3rver: "s3rver" };

/** Where the servers find their data: filegate and nginx share `root`; s3rver keeps its own. */
export interface ServerDirs {
  /** Another checkout whose src/cli.ts runs as the "base" server (--base-src), for before/after. */
  baseSrc?: string | null;
  tmp: string;
  root: string;
  s3dir: string;
  s3rverBin: string;
}

export interface Running {
  name: ServerName;
  endpoint: string;
  port: number;
  proc: ChildProcess;
  output: () => string;
}

/** s3rver only accepts its fixed key pair. */
export function credentials(name: ServerName): Credentials {
  return name === "s3rver" ? { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } : { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
}

/** s3rver's bin: the repo's own if it has one, else installed once into `--deps`. */
export function ensureS3rver(opts: Options): string {
  const inRepo = join(REPO, "node_modules/s3rver/bin/s3rver.js");
  if (existsSync(inRepo)) return inRepo;
  const bin = join(opts.s3rverDir, "node_modules/s3rver/bin/s3rver.js");
  if (!existsSync(bin)) {
    log(`installing s3rver into ${opts.s3rverDir} (npm install --no-save s3rver)…`);
    mkdirSync(opts.s3rverDir, { recursive: true });
    if (!existsSync(join(opts.s3rverDir, "package.json"))) writeFileSync(join(opts.s3rverDir, "package.json"), '{"private":true}\n');
    run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", opts.s3rverDir, "s3rver"]);
  }
  return bin;
}

function nginxConf(dir: string, root: string, port: number, workers: number): string {
  return `worker_processes ${workers};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
}

function serverCommand(dirs: ServerDirs, workers: number, name: ServerName, port: number): { cmd: string; args: string[]; extraEnv: Record<string, string> } {
  const fgArgs = ["serve", "--root", dirs.root, "--host", "127.0.0.1", "--port", String(port), "--workers", String(workers), "--quiet", "--fsync", "none"];
  const fgEnv = { FILEGATE_ACCESS_KEY: ACCESS_KEY, FILEGATE_SECRET_KEY: SECRET_KEY };
  switch (name) {
    case "nginx": {
      const dir = join(dirs.tmp, "nginx");
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, "nginx.conf");
      writeFileSync(conf, nginxConf(dir, dirs.root, port, workers));
      return { cmd: "nginx", args: ["-c", conf, "-p", dir, "-e", join(dir, "error.log")], extraEnv: {} };
    }
    case "floor":
      // One process whatever --workers says: it is the runtime's own cost per request.
      return { cmd: process.execPath, args: [join(REPO, "scripts/benchmark/floor-server.ts"), dirs.root, String(port)], extraEnv: {} };
    case "bun":
      return { cmd: process.execPath, args: [join(REPO, "src/cli.ts"), ...fgArgs], extraEnv: fgEnv };
    case "base":
      if (!dirs.baseSrc) throw new Error("the base server needs --base-src DIR");
      return { cmd: process.execPath, args: [join(dirs.baseSrc, "src/cli.ts"), ...fgArgs], extraEnv: fgEnv };
    case "node":
      return { cmd: "node", args: [join(REPO, "dist/node/filegate.mjs"), ...fgArgs], extraEnv: fgEnv };
    case "s3rver":
      return { cmd: "node", args: [dirs.s3rverBin, "-d", dirs.s3dir, "-a", "127.0.0.1", "-p", String(port), "--silent"], extraEnv: {} };
  }
}

/** Servers started and not yet stopped, killed on exit or Ctrl-C. */
const live = new Set<Running>();

export function killAll(): void {
  for (const s of live) killTree(s.proc.pid!);
}

export async function startServer(dirs: ServerDirs, workers: number, name: ServerName): Promise<Running> {
  const port = await freePort("127.0.0.1");
  const { cmd, args, extraEnv } = serverCommand(dirs, workers, name, port);
  const proc = spawn(cmd, args, { env: { ...process.env, NODE_NO_WARNINGS: "1", ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const s: Running = { name, endpoint: `http://127.0.0.1:${port}`, port, proc, output: () => out };
  live.add(s);
  const probe = name === "nginx" || name === "s3rver" ? "/" : "/_filegate/health";
  const deadline = Date.now() + 20_000;
  // With --workers N a supervisor may answer before every worker listens: require a few answers.
  let answers = 0;
  while (answers < 3 * workers) {
    if (proc.exitCode !== null) throw new Error(`${name} exited at start:\n${out}`);
    if (Date.now() > deadline) throw new Error(`${name} did not start:\n${out}`);
    try {
      await fetch(s.endpoint + probe);
      answers++;
    } catch {
      await sleep(50);
    }
  }
  await sleep(200);
  return s;
}

export async function stopServer(s: Running): Promise<void> {
  if (s.proc.exitCode === null && s.proc.signalCode === null) {
    const exited = new Promise((r) => s.proc.once("exit", r));
    s.proc.kill(s.name === "nginx" ? "SIGQUIT" : "SIGTERM");
    const t = setTimeout(() => killTree(s.proc.pid!), 10_000);
    await exited;
    clearTimeout(t);
  }
  live.delete(s);
}
