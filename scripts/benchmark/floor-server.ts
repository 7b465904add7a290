// The floor for the small-request rows: a bare Bun.serve doing only what the runtime must for the
// same requests, with no S3 in it. GET answers `Bun.file` of ROOT/<path> with the headers filegate
// sends for a 4 KiB object (ETag, Last-Modified, Accept-Ranges, Content-Type, Content-Length, two
// request-id headers); PUT reads the body, writes it to a temp file beside the target and renames
// it over the target (what a PUT with `--fsync none` must do at the least). The query (presigned
// parameters) and any signing headers are ignored.
//   bun scripts/benchmark/floor-server.ts ROOT PORT
import { closeSync, openSync, renameSync, writeSync } from "node:fs";

const [root, portArg] = process.argv.slice(2);
if (!root || !portArg) throw new Error("usage: floor-server.ts ROOT PORT");

const lastModified = new Date().toUTCString();
let counter = 0;

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(portArg),
  development: false,
  async fetch(req) {
    const url = req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", start);
    const path = root + decodeURIComponent(q === -1 ? url.slice(start) : url.slice(start, q));
    const id = (++counter).toString(16).toUpperCase().padStart(16, "0");
    if (path.endsWith("/_filegate/health")) return new Response("ok\n");
    if (req.method === "PUT") {
      const body = await req.bytes();
      const tmp = `${path}.tmp-${counter}`;
      const fd = openSync(tmp, "wx");
      try {
        writeSync(fd, body);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      return new Response(null, { headers: { etag: '"00000000000000000000000000000000"', "x-amz-request-id": id, "x-amz-id-2": "floor" } });
    }
    const file = Bun.file(path);
    return new Response(file, {
      headers: {
        etag: '"00000000000000000000000000000000"',
        "last-modified": lastModified,
        "accept-ranges": "bytes",
        "content-type": "application/octet-stream",
        "content-length": String(file.size),
        "content-disposition": "",
        "x-amz-request-id": id,
        "x-amz-id-2": "floor",
      },
    });
  },
});
