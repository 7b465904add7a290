// --workers N: N server processes on one port, so one host uses all its cores. Every process is a
// full, stateless gateway over the same root. Bun children bind with SO_REUSEPORT (the kernel
// spreads connections); Node 20 has no reusePort, so Node uses node:cluster, whose primary hands
// connections to the workers. Every worker has an IPC channel to its supervisor (worker-link.ts):
// it dies with the supervisor, and metrics scrapes are summed over all workers through it.
import { spawn } from "node:child_process";
import cluster from "node:cluster";
import { connect, createServer } from "node:net";
import { MetricsSum } from "./metrics-sum.ts";
import { PARENT_PID_ENV, type ToSupervisor, type ToWorker } from "./worker-link.ts";

export const WORKER_ENV = "FILEGATE_WORKER";

export function isWorkerProcess(): boolean {
  return Boolean(process.env[WORKER_ENV]);
}

/** A free TCP port: with --port 0 every worker must still agree on one. */
export function freePort(host: string): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/**
 * Waits until nothing else holds host:port. A socket without SO_REUSEPORT cannot bind beside the
 * workers of an earlier supervisor (they bound with it), so a restarted gateway waits for those to
 * notice their supervisor is gone (about a second) instead of sharing the port with them.
 */
export async function waitUntilPortFree(host: string, port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const s = createServer();
      s.once("error", resolve);
      s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(null)));
    });
    if (!error) return;
    if (error.code !== "EADDRINUSE" || Date.now() > deadline) throw new Error(`cannot listen on ${host}:${port}: ${error.message}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once something accepts connections on host:port (the workers bind on their own). */
export async function waitUntilListening(host: string, port: number, timeoutMs = 15000): Promise<void> {
  const target = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, target);
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`no worker is listening on ${target}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** This process's script (unless it is a compiled executable) and arguments. */
function ownArgs(): string[] {
  const script = process.argv[1] ?? "";
  // In a `bun build --compile` executable the script lives in its embedded /$bunfs.
  return script.startsWith("/$bunfs/") || script.startsWith("B:/~BUN/") ? process.argv.slice(2) : process.argv.slice(1);
}

interface Worker {
  kill(signal: NodeJS.Signals): void;
  send(m: ToWorker): void;
}

interface WorkerEvents {
  exited(how: string): void;
  message(m: ToSupervisor): void;
}

/**
 * The policy every worker pool follows: `count` workers; one that dies on its own is restarted,
 * so one crash does not halve the capacity for good; SIGINT/SIGTERM stop them all and SIGHUP
 * (certificate reload) is passed on; the supervisor exits 0 once all have stopped.
 */
function supervise(count: number, startWorker: (index: number, on: WorkerEvents) => Worker, log: (l: string) => void): void {
  let stopping = false;
  const live = new Map<number, Worker>();
  const metrics = new MetricsSum();
  const start = (index: number) => {
    const exited = (how: string) => {
      live.delete(index);
      metrics.retire(index);
      if (stopping) {
        if (live.size === 0) process.exit(0);
        return;
      }
      log(`filegate: worker ${index} exited (${how}); restarting it`);
      setTimeout(() => start(index), 500);
    };
    live.set(index, startWorker(index, { exited, message: (m) => metrics.onMessage(index, m, live) }));
  };
  for (let i = 1; i <= count; i++) start(i);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (signal !== "SIGHUP") stopping = true;
      for (const w of live.values()) w.kill(signal);
      if (stopping && live.size === 0) process.exit(0);
    });
  }
}

/** Bun: `count` copies of this process, each binding `port` with SO_REUSEPORT. */
export function superviseWorkers(count: number, port: number, log: (l: string) => void): void {
  supervise(
    count,
    (index, on) => {
      const child = spawn(process.execPath, [...ownArgs(), "--port", String(port)], {
        env: { ...process.env, [WORKER_ENV]: String(index), [PARENT_PID_ENV]: String(process.pid) },
        // Inherit the three: "ignore" opens /dev/null, which a bare container may lack.
        stdio: ["inherit", "inherit", "inherit", "ipc"],
      });
      child.on("error", (e) => {
        log(`filegate: cannot start worker ${index}: ${e.message}`);
        process.exit(1);
      });
      child.on("message", (m: ToSupervisor) => on.message(m));
      child.on("exit", (code, signal) => on.exited(String(signal ?? code)));
      return { kill: (s) => child.kill(s), send: (m) => child.connected && child.send(m) };
    },
    log,
  );
}

/** Node 20 has no SO_REUSEPORT: the cluster primary accepts and hands connections to workers. */
export function superviseCluster(count: number, banner: (port: number) => void, log: (l: string) => void): void {
  let announced = false;
  cluster.on("listening", (_w, address) => {
    if (!announced) banner(address.port);
    announced = true;
  });
  supervise(
    count,
    (index, on) => {
      const w = cluster.fork({ [WORKER_ENV]: String(index), [PARENT_PID_ENV]: String(process.pid) });
      w.on("message", (m: ToSupervisor) => on.message(m));
      w.on("exit", (code, signal) => on.exited(String(signal ?? code)));
      return { kill: (s) => w.process.kill(s), send: (m) => w.isConnected() && w.send(m) };
    },
    log,
  );
}
