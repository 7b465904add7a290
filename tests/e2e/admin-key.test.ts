// The first admin's access key is nobody else's: `filegate user add --access-key` refuses it when
// it can know it (FILEGATE_ACCESS_KEY, ROOT/.filegate/credentials, or the note a gateway started on
// the root left), and a gateway refuses to start on a user file that gives its key to a user,
// instead of serving with a dead duplicate; the CLI can remove the duplicate.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCESS_KEY, SECRET_KEY, gatewayCommand, removeTree, s3Client, startGateway, untilAccepted, userCli } from "../support/index.ts";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) removeTree(r);
});
const tempRoot = () => {
  const r = mkdtempSync(join(tmpdir(), "filegate-adminkey-"));
  roots.push(r);
  return r;
};
const ADMIN_ENV = { FILEGATE_ACCESS_KEY: ACCESS_KEY, FILEGATE_SECRET_KEY: SECRET_KEY };

test("with the gateway's key in its environment the CLI refuses to give it to a user", () => {
  const root = tempRoot();
  const r = userCli(root, ["add", "mallory", "--access-key", ACCESS_KEY, "--secret-key", "another-secret"], ADMIN_ENV);
  expect(r.code).toBe(1);
  expect(r.err).toContain("EntityAlreadyExists");
  expect(JSON.parse(userCli(root, ["list"]).out).map((u: { user: string }) => u.user)).not.toContain("mallory");
});

test("after a gateway started on the root, the CLI refuses its key without seeing its environment", async () => {
  const gw = await startGateway();
  try {
    const r = userCli(gw.root, ["add", "mallory", "--access-key", ACCESS_KEY, "--secret-key", "another-secret"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("EntityAlreadyExists");
    // The admin still signs with it.
    const admin = s3Client(gw);
    await untilAccepted(admin);
    admin.destroy();
  } finally {
    await gw.stop();
  }
});

test("a gateway does not start on a user file that holds its key; once the CLI removes it, it does", async () => {
  const root = tempRoot();
  // Made before any gateway ran here, by a shell without the gateway's environment: the CLI cannot know.
  const made = userCli(root, ["add", "eve", "--access-key", ACCESS_KEY, "--secret-key", "eve-secret-1"]);
  expect(made.code).toBe(0);
  const [cmd, ...base] = gatewayCommand();
  const r = spawnSync(cmd, [...base, "serve", "--root", root, "--port", "0", "--host", "127.0.0.1", "--workers", "1"], {
    encoding: "utf8",
    env: { ...process.env, ...ADMIN_ENV },
    timeout: 30_000,
  });
  expect(r.status).not.toBe(0);
  expect(r.status).not.toBeNull(); // it exited, it was not killed for running on
  expect(r.stderr).toContain(`access key ${ACCESS_KEY} of user eve is the first admin's`);
  expect(r.stderr).not.toContain(SECRET_KEY);
  expect(r.stderr).not.toContain("eve-secret-1");
  // The operator removes the duplicate, knowing the admin's key: the stored copy is what goes.
  expect(userCli(root, ["key", "remove", ACCESS_KEY], ADMIN_ENV).code).toBe(0);
  const gw = await startGateway({ root });
  try {
    const admin = s3Client(gw);
    await untilAccepted(admin);
    admin.destroy();
  } finally {
    await gw.stop();
  }
});
