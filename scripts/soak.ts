// Soak: minutes of mixed load from several clients against two gateway processes on one root,
// with kill -9 of one of them now and then (and a restart). Not part of npm test. It checks, the
// whole time:
//   - every GET body is the version its ETag and Content-Length name (whole and ranged+If-Match);
//   - no acknowledged conditional update is lost: a counter advanced only with If-Match PUTs ends
//     at least at the number of acknowledged increments, and at most that plus the increments
//     whose answer was lost to a kill;
//   - every completed multipart upload reads back whole;
//   - after the run, a restart's sweep leaves no temp file and no dead Complete behind.
// Prints what it checked and how many violations it saw (0 expected); exits 1 on any.
//   bun scripts/soak.ts [--seconds 120] [--clients 6] [--kill-every 7] [--runtime bun|node]
import { S3Client, CreateBucketCommand, GetObjectCommand, PutObjectCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand } from "@aws-sdk/client-s3";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "..");
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ""), process.argv[i + 1]);
const SECONDS = Number(args.get("seconds") ?? 120);
const CLIENTS = Number(args.get("clients") ?? 6);
const KILL_EVERY = Number(args.get("kill-every") ?? 7) * 1000;
const RUNTIME = args.get("runtime") ?? "bun";
const AK = "SOAKACCESSKEY0000001";
const SK = "soak/secret+key00000000000000000000000000";
const root = mkdtempSync(join(tmpdir(), "filegate-soak-"));
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

interface Proc { port: number; proc: ChildProcess; alive: boolean }

function command(): string[] {
  return RUNTIME === "node" ? ["node", join(REPO, "dist/node/filegate.mjs")] : [process.execPath, join(REPO, "src/cli.ts")];
}

async function start(port: number): Promise<Proc> {
  const [cmd, ...rest] = command();
  const proc = spawn(cmd, [...rest, "serve", "--root", root, "--port", String(port), "--host", "127.0.0.1", "--workers", "1", "--quiet"], {
    env: { ...process.env, FILEGATE_ACCESS_KEY: AK, FILEGATE_SECRET_KEY: SK },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((ok) => proc.stdout!.on("data", (d) => String(d).includes("listening") && ok()));
  return { port, proc, alive: true };
}

const counts = { gets: 0, ranged: 0, puts: 0, increments: 0, lostAnswers: 0, multipart: 0, kills: 0, unavailable: 0 };
const violations: string[] = [];
const violate = (what: string) => {
  violations.push(what);
  if (violations.length <= 20) console.error("VIOLATION:", what);
};

const clientFor = (p: Proc) =>
  new S3Client({ endpoint: `http://127.0.0.1:${p.port}`, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: AK, secretAccessKey: SK }, maxAttempts: 1 });

const httpStatus = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
async function readAll(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function main() {
  const procs = [await start(20000 + Math.floor(Math.random() * 20000)), await start(40000 + Math.floor(Math.random() * 20000))];
  let clients = procs.map(clientFor);
  await clients[0].send(new CreateBucketCommand({ Bucket: "soak" }));
  await clients[0].send(new PutObjectCommand({ Bucket: "soak", Key: "counter", Body: "0" }));
  const deadline = Date.now() + SECONDS * 1000;
  const pick = () => {
    const live = procs.map((p, i) => (p.alive ? i : -1)).filter((i) => i >= 0);
    return clients[live[Math.floor(Math.random() * live.length)] ?? 0];
  };
  const keys = Array.from({ length: 12 }, (_, i) => `obj/${i}`);

  const killer = (async () => {
    while (Date.now() < deadline - KILL_EVERY) {
      await new Promise((r) => setTimeout(r, KILL_EVERY));
      const i = Math.floor(Math.random() * 2);
      const p = procs[i];
      p.alive = false;
      const exited = new Promise((r) => p.proc.once("exit", r));
      p.proc.kill("SIGKILL");
      await exited;
      counts.kills++;
      procs[i] = await start(p.port);
      clients = procs.map(clientFor);
    }
  })();

  async function mixed(id: number) {
    while (Date.now() < deadline) {
      const c = pick();
      const dice = Math.random();
      try {
        if (dice < 0.3) {
          const body = randomBytes(Math.random() < 0.5 ? 4096 : 1024 * 1024 + Math.floor(Math.random() * 2e6));
          const r = await c.send(new PutObjectCommand({ Bucket: "soak", Key: keys[Math.floor(Math.random() * keys.length)], Body: body }));
          if (r.ETag !== `"${md5(body)}"`) violate(`PUT answered ${r.ETag} for ${md5(body)}`);
          counts.puts++;
        } else if (dice < 0.7) {
          const key = keys[Math.floor(Math.random() * keys.length)];
          const r = await c.send(new GetObjectCommand({ Bucket: "soak", Key: key }));
          const b = await readAll(r.Body);
          counts.gets++;
          if (`"${md5(b)}"` !== r.ETag || b.length !== r.ContentLength) violate(`GET ${key}: ETag ${r.ETag}, length ${r.ContentLength}, got ${md5(b)} / ${b.length}`);
          if (b.length > 3000) {
            try {
              const p = await c.send(new GetObjectCommand({ Bucket: "soak", Key: key, Range: "bytes=1000-2999", IfMatch: r.ETag }));
              const pb = await readAll(p.Body);
              counts.ranged++;
              if (!pb.equals(b.subarray(1000, 3000))) violate(`ranged GET ${key} with If-Match ${r.ETag} carried other bytes`);
            } catch (e) {
              if (httpStatus(e) !== 412) throw e;
            }
          }
        } else if (dice < 0.9) {
          const r = await c.send(new GetObjectCommand({ Bucket: "soak", Key: "counter" }));
          const n = Number((await readAll(r.Body)).toString());
          try {
            await c.send(new PutObjectCommand({ Bucket: "soak", Key: "counter", Body: String(n + 1), IfMatch: r.ETag }));
            counts.increments++;
          } catch (e) {
            const s = httpStatus(e);
            if (s === undefined) counts.lostAnswers++;
            else if (s !== 412 && s !== 409) throw e;
          }
        } else {
          const key = `mp/${id}`;
          const up = await c.send(new CreateMultipartUploadCommand({ Bucket: "soak", Key: key }));
          const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1234)];
          const etags: string[] = [];
          for (let n = 0; n < parts.length; n++) etags.push((await c.send(new UploadPartCommand({ Bucket: "soak", Key: key, UploadId: up.UploadId, PartNumber: n + 1, Body: parts[n] }))).ETag!);
          let done = false;
          for (let attempt = 0; attempt < 20 && !done; attempt++) {
            try {
              await pick().send(new CompleteMultipartUploadCommand({ Bucket: "soak", Key: key, UploadId: up.UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }));
              done = true;
            } catch (e) {
              if (httpStatus(e) !== undefined) throw e;
              await new Promise((r) => setTimeout(r, 300)); // its gateway died: retry elsewhere
            }
          }
          if (!done) violate(`Complete of ${key} never answered`);
          const got = await readAll((await pick().send(new GetObjectCommand({ Bucket: "soak", Key: key }))).Body);
          if (md5(got) !== md5(Buffer.concat(parts))) violate(`multipart ${key} reads back wrong`);
          counts.multipart++;
        }
      } catch (e) {
        const s = httpStatus(e);
        if (s === undefined || s === 503) counts.unavailable++; // a killed gateway's connections
        else if (s === 404 && dice < 0.7) continue; // a key not written yet
        else violate(`unexpected ${s}: ${(e as Error).name} ${(e as Error).message}`);
      }
    }
  }

  await Promise.all([...Array.from({ length: CLIENTS }, (_, i) => mixed(i)), killer]);
  const final = Number((await readAll((await clients[0].send(new GetObjectCommand({ Bucket: "soak", Key: "counter" }))).Body)).toString());
  if (final < counts.increments || final > counts.increments + counts.lostAnswers) {
    violate(`counter is ${final}; acknowledged increments ${counts.increments}, answers lost to kills ${counts.lostAnswers}`);
  }
  for (const p of procs) p.proc.kill("SIGKILL");
  // A fresh process sweeps at start-up: nothing of the dead ones may stay.
  const sweeper = await start(procs[0].port);
  await new Promise((r) => setTimeout(r, 300));
  const tmp = join(root, "soak", ".filegate", "tmp");
  const leftTemps = existsSync(tmp) ? readdirSync(tmp) : [];
  const uploads = join(root, "soak", ".filegate", "uploads");
  const leftCompletes = existsSync(uploads) ? readdirSync(uploads).filter((n) => n.includes(".completing-")) : [];
  if (leftTemps.length) violate(`temp files left after the sweep: ${leftTemps.length}`);
  if (leftCompletes.length) violate(`dead Completes left after the sweep: ${leftCompletes.length}`);
  sweeper.proc.kill("SIGKILL");
  console.log(`soak on ${RUNTIME}: ${SECONDS} s, ${CLIENTS} clients, 2 processes on one root, ${counts.kills} kill -9`);
  console.log(`checked: ${counts.gets} GETs (${counts.ranged} ranged with If-Match), ${counts.puts} PUTs, ${counts.increments} acknowledged If-Match increments (counter ${final}, ${counts.lostAnswers} answers lost to kills), ${counts.multipart} multipart uploads; ${counts.unavailable} requests hit a dead process`);
  console.log(`violations: ${violations.length}`);
  rmSync(root, { recursive: true, force: true });
  process.exit(violations.length ? 1 : 0);
}

await main();
