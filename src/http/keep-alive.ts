// Responses for operations that may outlast a client's or the server's idle timeout. S3 answers a
// long CompleteMultipartUpload with 200 at once and trickles whitespace until the result (or an
// <Error> document, still under 200) is ready; clients parse the body, not the status. Doing the
// same keeps Bun's idleTimeout and proxies satisfied. Fast results get an ordinary response, so
// errors keep their real status whenever possible.
import { XML_DECLARATION } from "../xml/index.ts";
import { asS3Error, errorXml, reportFailure, xmlTextResponse } from "./response.ts";

export interface KeepAliveOptions {
  /** How long to wait for a result before committing to a streamed 200. */
  graceMs: number;
  /** Whitespace cadence once streaming. */
  intervalMs: number;
  /** Identifies the request in an <Error> document sent inside the 200. */
  resource: string;
  requestId: string;
  /** Receives server-side failures (reportFailure), which clients see only as their S3 code. */
  log?: (line: string) => void;
}

/**
 * `work` resolves to a complete XML document. Within the grace period this is a plain response
 * (a rejection is rethrown for the normal error path); after it, a streamed 200.
 */
/**
 * `work` may name response headers along with its document (x-amz-version-id); they are sent when
 * the answer comes within the grace period, and are lost once the 200 has gone out.
 */
export async function keepAliveXml(work: Promise<string | { xml: string; headers: Record<string, string> }>, opts: KeepAliveOptions): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = work.then(
    (r) => (typeof r === "string" ? { ok: true as const, xml: r, headers: {} } : { ok: true as const, ...r }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const early = await Promise.race([settled, new Promise<null>((r) => (timer = setTimeout(() => r(null), opts.graceMs)))]);
  clearTimeout(timer);
  if (early) {
    if (!early.ok) throw early.error;
    return xmlTextResponse(early.xml, 200, early.headers);
  }
  const enc = new TextEncoder();
  let ticker: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(XML_DECLARATION));
      ticker = setInterval(() => {
        try {
          controller.enqueue(enc.encode(" "));
        } catch {
          clearInterval(ticker);
        }
      }, opts.intervalMs);
      void settled.then((r) => {
        clearInterval(ticker);
        const doc = r.ok ? r.xml : errorDocument(r.error, opts);
        try {
          controller.enqueue(enc.encode(doc.startsWith("<?xml") ? doc.slice(doc.indexOf("?>") + 2).trimStart() : doc));
          controller.close();
        } catch {
          // the client went away; the work itself has finished regardless
        }
      });
    },
    cancel() {
      clearInterval(ticker);
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/xml" } });
}

function errorDocument(err: unknown, opts: KeepAliveOptions): string {
  const e = asS3Error(err);
  reportFailure(e, opts.requestId, opts.log);
  return errorXml(e, opts.resource, opts.requestId);
}
