// Multipart uploads on disk. Everything lives in files under BUCKET/.filegate/uploads, never in
// memory, so an upload survives a restart and several gateway processes on one root can share it:
//
//   uploads/<id>/upload.json            key, initiation time, what the object will be stored with
//   uploads/<id>/part-00007.json        etag, size, checksum, the name of the data file and the offset
//   uploads/<id>/parts.data             parts written at their final offsets (part-slots.ts)
//   uploads/<id>/stride                 the part size that decides those offsets, once known
//   uploads/<id>/part-00007.<random>    a part that could not go there (part-slots.ts says when)
//   uploads/<id>/assembly.<random>      the object while a Complete copies parts into a new file
//   uploads/<id>.completing-<random>/   the same directory while one Complete owns it
//   uploads/<id>.aborting-<random>/     the same directory while Abort removes it
//   uploads/<id>.done                   a finished upload's result, so a retried Complete gets it
//
// A part's record is replaced with rename(2), so readers see the old part or the new one; the data
// file gets a fresh name each time and the replaced one is unlinked afterwards. Complete and Abort
// both hold the upload's claim (a lock in ROOT/.filegate/locks that the kernel drops when its
// holder dies) and start by renaming the upload directory away, after which every later part
// write into the old path fails with ENOENT. Whoever takes the claim and finds a `.completing-*`
// directory knows its owner died: it puts the upload back as it was (a part file Complete appended
// to is cut back to its own size, an assembly file removed) or, if that Complete had already
// committed the object, records its result, so a retried Complete answers instead of waiting forever.
//
// Complete assembles the object in the cheapest of three ways (assemblyPlan): in place, when the
// shared file holds parts 1..K at their offsets (parts that are elsewhere are copied into their
// slots first; then truncate + rename, no data moved); appended to part 1's own file (the others
// copied after it); or copied into a new file. Copies use FICLONERANGE where the filesystem
// shares extents, else copy_file_range (kernel-copy.ts).
import { closeSync, constants, fdatasyncSync, lstatSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createHasher } from "../../checksums/index.ts";
import { StorageError, absentAs, isStorageError } from "../errors.ts";
import { mkdirs } from "./mkdirs.ts";
import { receiveToTemp, tempPathIn } from "./incoming.ts";
import { GATEWAY_DIR, bucketTmpDir, bucketUploadsDir } from "./layout.ts";
import { versionOf } from "./meta.ts";
import { lockFields } from "./immutable.ts";
import type { PosixBackend } from "./backend.ts";
import { isServableBucketName, keyPath } from "./names.ts";
import { keyLockFile, tryLock, type HeldLock } from "./locks.ts";
import { copyRange, copyToNewFile, worseCopy, type CopyMethod } from "./kernel-copy.ts";
import { SHARED_FILE, createSharedFile, holdSharedFile, readStride, takeSlot } from "./part-slots.ts";
import { fdPath } from "./kernel.ts";
import { receiveInto } from "./incoming.ts";
import { fsyncPath, writeFileAtomic } from "./durability.ts";
import { hashFile } from "./hash-file.ts";
import { isUploadId, multipartEtag, newUploadId, type PartChecksum, type RequestedPart } from "../../s3/multipart-rules.ts";
import { settleFd } from "./ownership.ts";
import type { FileOwner, UploadStore, CompleteOptions, CompletePlan, CompletedUpload, IncomingBody, ObjectInfo, ObjectMeta, OpenObject, PartRecord, StoredChecksum, UploadRecord, UploadSummary } from "../types.ts";




/** Whether `requested` names the parts `done` was made of: their ETags give the same ETag. */
function sameRequest(done: CompletedUpload, requested: RequestedPart[]): boolean {
  const md5s = requested.map((p) => p.etag.toLowerCase());
  return md5s.every((m) => /^[0-9a-f]{32}$/.test(m)) && multipartEtag(md5s) === done.etag;
}




interface OpenUpload {
  bucketDir: string;
  uploadsDir: string;
  dir: string;
  uploadId: string;
  record: UploadRecord;
}

/** How long a retried Complete can still get the answer of the one that finished the upload. */
export const DONE_RECORD_TTL_MS = 24 * 3600 * 1000;
/** A Complete or Abort waits this long for another live one to let go of the upload. */
const CLAIM_WAIT_MS = 10 * 60_000;
/** What a Complete is about to commit, kept in its directory for whoever recovers it. */
const INTENT = "complete.json";
const STALE_TEMP_MS = 3600 * 1000;
const PART_JSON = /^part-(\d{5})\.json$/;
const PART_FILE = /^part-\d{5}\.[0-9a-f]{12}$/;
const ASSEMBLY_FILE = /^assembly\.[0-9a-f]{12}$/;
/** Part files are only ever our own regular files: a link planted in their place is not followed. */
const RW_NOFOLLOW = constants.O_RDWR | constants.O_NOFOLLOW;

const partBase = (n: number) => `part-${String(n).padStart(5, "0")}`;
const suffix = () => randomBytes(6).toString("hex");
const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

export class MultipartStore implements UploadStore {
  constructor(private readonly backend: PosixBackend) {}

  create(bucket: string, key: string, init: Omit<UploadRecord, "key" | "initiated">): { uploadId: string; record: UploadRecord } {
    keyPath("", key);
    const uploadsDir = bucketUploadsDir(this.backend.bucketDir(bucket));
    const uploadId = newUploadId();
    const record: UploadRecord = { key, initiated: new Date().toISOString(), ...init };
    // Built under a name no listing reads, then renamed: an upload is visible whole or not at all.
    const staging = join(uploadsDir, `.new-${uploadId}`);
    try {
      mkdirs(staging);
      this.writeJson(join(staging, "upload.json"), record);
      createSharedFile(staging);
      renameSync(staging, join(uploadsDir, uploadId));
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      throw absentAs(e);
    }
    this.syncDir(uploadsDir);
    return { uploadId, record };
  }

  /** The upload `uploadId` of `key`; NoSuchUpload for anything else, including another key's upload. */
  open(bucket: string, key: string, uploadId: string | null): OpenUpload {
    const bucketDir = this.backend.bucketDir(bucket);
    if (uploadId === null || !isUploadId(uploadId)) throw new StorageError("NoSuchUpload", { UploadId: uploadId ?? "" });
    const uploadsDir = bucketUploadsDir(bucketDir);
    const dir = join(uploadsDir, uploadId);
    let record = readJson<UploadRecord>(join(dir, "upload.json"));
    if (!record && this.recoverIfFree(bucket, uploadsDir, uploadId)) record = readJson<UploadRecord>(join(dir, "upload.json"));
    if (!record || record.key !== key) throw new StorageError("NoSuchUpload", { UploadId: uploadId });
    return { bucketDir, uploadsDir, dir, uploadId, record };
  }

  /** The claim Complete and Abort hold on an upload, shared by every process on the root. */
  private claimFile(bucket: string, uploadId: string): string {
    return this.backend.uploadLockFile(bucket, uploadId);
  }

  /** With the claim free, finishes what a dead Complete left; true when anything was recovered. */
  private recoverIfFree(bucket: string, uploadsDir: string, uploadId: string): boolean {
    if (!listDir(uploadsDir).some((n) => n.startsWith(`${uploadId}.completing-`))) return false;
    const claim = tryLock(this.claimFile(bucket, uploadId));
    if (!claim) return false;
    try {
      return this.recoverOrphans(uploadsDir, uploadId);
    } finally {
      claim.release();
    }
  }

  /**
   * Under the claim every `<id>.completing-*` directory is a dead Complete's: restore the upload
   * (cut part files back to their recorded sizes) or, when it had already committed the object,
   * write its result as the `.done` record. True when anything was found.
   */
  private recoverOrphans(uploadsDir: string, uploadId: string): boolean {
    let found = false;
    for (const name of listDir(uploadsDir)) {
      // A dead writer's temp of the `.done` record (writeFileAtomic's `<path>.<hex>.tmp`): only
      // the claim's holder writes that record, so under the claim no live one is left.
      if (name.startsWith(`${uploadId}.done.`) && name.endsWith(".tmp")) {
        rmSync(join(uploadsDir, name), { force: true });
        continue;
      }
      if (!name.startsWith(`${uploadId}.completing-`)) continue;
      found = true;
      const dir = join(uploadsDir, name);
      const intent = readJson<CompletedUpload & { firstPart: string }>(join(dir, INTENT));
      // Committed: part 1 is gone (renamed to the key), or it is still here but also linked at
      // the key (an If-None-Match commit links first and unlinks after).
      const committed = intent !== null && (!listDir(dir).includes(intent.firstPart) || linkCount(join(dir, intent.firstPart)) > 1);
      if (committed) {
        const { firstPart: _, ...result } = intent;
        try {
          this.writeJson(join(uploadsDir, `${uploadId}.done`), result);
        } catch {
          // the retry then answers NoSuchUpload; the object is in place either way
        }
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      for (const name of listDir(dir)) if (ASSEMBLY_FILE.test(name)) rmSync(join(dir, name), { force: true });
      for (const rec of readParts(dir).values()) {
        // The shared file is only ever written in slots no record names: nothing to restore.
        if (rec.file === SHARED_FILE) continue;
        try {
          const fd = openSync(join(dir, rec.file), RW_NOFOLLOW);
          try {
            if (fstatSync(fd).size > rec.size) ftruncateSync(fd, rec.size);
          } finally {
            closeSync(fd);
          }
        } catch {
          // a missing part file fails Complete's checks later, as it should
        }
      }
      rmSync(join(dir, INTENT), { force: true });
      try {
        renameSync(dir, join(uploadsDir, uploadId));
      } catch {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return found;
  }

  async putPart(bucket: string, key: string, uploadId: string | null, partNumber: number, body: IncomingBody, owner?: FileOwner): Promise<PartRecord> {
    const up = this.open(bucket, key, uploadId);
    const slot = body.length !== null ? takeSlot(up.dir, partNumber, body.length, (offset) => this.slotInUse(up.dir, partNumber, offset)) : null;
    if (slot) {
      try {
        const got = await receiveInto(slot.fd, fdPath(slot.fd), slot.offset, body, this.backend.fsync);
        return this.recordPart(up, partNumber, SHARED_FILE, {
          offset: slot.offset,
          etag: got.md5Hex,
          size: got.size,
          ...(got.checksum ? { checksum: got.checksum } : {}),
        });
      } finally {
        slot.release();
      }
    }
    const written = await receiveToTemp(bucketTmpDir(up.bucketDir), body, this.backend.fsync, owner);
    return this.placePart(up, partNumber, written.tmpPath, {
      etag: written.md5Hex,
      size: written.size,
      ...(written.checksum ? { checksum: written.checksum } : {}),
    });
  }

  /** UploadPartCopy: `range` is inclusive; the bytes move in the kernel where the runtime allows. */
  async copyPart(bucket: string, key: string, uploadId: string | null, partNumber: number, src: OpenObject, range: { start: number; end: number } | null, owner?: FileOwner): Promise<PartRecord> {
    const up = this.open(bucket, key, uploadId);
    const tmp = tempPathIn(bucketTmpDir(up.bucketDir));
    try {
      const { size: length } = await copyToNewFile(src, tmp, range && { start: range.start, length: range.end - range.start + 1 }, owner);
      // The part's MD5 must be of the copied bytes; they were just written, so this reads the page cache.
      const alg = up.record.checksum?.algorithm;
      const reuseEtag = !range && !alg && src.meta && /^[0-9a-f]{32}$/.test(src.meta.etag) ? src.meta.etag : null;
      const digests = reuseEtag ? { md5: reuseEtag } : await hashFile(tmp, alg ? createHasher(alg) : null);
      if (this.backend.fsync !== "none") fsyncPath(tmp);
      return this.placePart(up, partNumber, tmp, {
        etag: digests.md5,
        size: length,
        ...(alg && digests.checksum ? { checksum: { algorithm: alg, value: digests.checksum } } : {}),
      });
    } catch (e) {
      rmSync(tmp, { force: true });
      throw absentAs(e);
    }
  }

  listParts(bucket: string, key: string, uploadId: string | null): { record: UploadRecord; parts: PartRecord[] } {
    const up = this.open(bucket, key, uploadId);
    const parts = [...readParts(up.dir).values()].sort((a, b) => a.partNumber - b.partNumber);
    return { record: up.record, parts };
  }

  /**
   * Clears what dead processes left in the bucket's uploads: Completes whose owner died are
   * recovered (as a retry would), completion records expire, abandoned staging goes after an hour.
   * `.aborting-*` directories go at once: they are decided garbage that nothing writes into, so
   * removing one beside the process still removing it is harmless (a Complete removes its own
   * after answering, and a kill in that window, now that Complete takes milliseconds, is common).
   * Never touches what a live process holds.
   */
  sweep(bucket: string, now = Date.now()): void {
    const uploadsDir = bucketUploadsDir(this.backend.bucketDir(bucket));
    const seen = new Set<string>();
    for (const name of listDir(uploadsDir)) {
      const at = name.indexOf(".completing-");
      if (at > 0 && !seen.has(name.slice(0, at))) {
        seen.add(name.slice(0, at));
        this.recoverIfFree(bucket, uploadsDir, name.slice(0, at));
      } else if (name.endsWith(".done")) {
        if (now - mtimeMs(join(uploadsDir, name)) > DONE_RECORD_TTL_MS) rmSync(join(uploadsDir, name), { force: true });
      } else if (name.includes(".aborting-")) {
        try {
          rmSync(join(uploadsDir, name), { recursive: true, force: true });
        } catch {
          // removed meanwhile by its owner; the next sweep sees what is left
        }
      } else if (name.startsWith(".new-") || name.endsWith(".tmp")) {
        if (now - mtimeMs(join(uploadsDir, name)) > STALE_TEMP_MS) rmSync(join(uploadsDir, name), { recursive: true, force: true });
      }
    }
  }

  /** Every upload in progress in the bucket; drops expired completion records on the way. */
  listUploads(bucket: string): UploadSummary[] {
    const uploadsDir = bucketUploadsDir(this.backend.bucketDir(bucket));
    const out: UploadSummary[] = [];
    const now = Date.now();
    for (const name of listDir(uploadsDir)) {
      if (isUploadId(name)) {
        const rec = readJson<UploadRecord>(join(uploadsDir, name, "upload.json"));
        if (rec) out.push({ key: rec.key, uploadId: name, initiated: new Date(rec.initiated), ...(rec.checksum ? { checksum: rec.checksum } : {}), ...(rec.initiator ? { initiator: rec.initiator } : {}) });
      } else if (name.endsWith(".done")) {
        const rec = readJson<CompletedUpload>(join(uploadsDir, name));
        if (!rec || now - Date.parse(rec.completedAt) > DONE_RECORD_TTL_MS) rmSync(join(uploadsDir, name), { force: true });
      }
    }
    return out;
  }

  async abort(bucket: string, key: string, uploadId: string | null): Promise<void> {
    this.open(bucket, key, uploadId);
    const claim = await this.claim(bucket, uploadId!);
    try {
      const up = this.open(bucket, key, uploadId);
      const doomed = join(up.uploadsDir, `${up.uploadId}.aborting-${suffix()}`);
      try {
        renameSync(up.dir, doomed);
      } catch (e) {
        if (errno(e) === "ENOENT") throw new StorageError("NoSuchUpload", { UploadId: up.uploadId });
        throw absentAs(e);
      }
      rmSync(doomed, { recursive: true, force: true });
    } finally {
      claim.release();
    }
  }

  /** Waits for the upload's claim (another live Complete or Abort holds it), bounded in time. */
  private async claim(bucket: string, uploadId: string): Promise<HeldLock> {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    for (;;) {
      const held = tryLock(this.claimFile(bucket, uploadId));
      if (held) return held;
      if (Date.now() > deadline) throw new StorageError("UploadBusy");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Checks a Complete request against the stored parts and takes the upload for assembly. When the
   * upload is free, all client errors surface here; `run` can fail only on the filesystem or on a
   * write condition that changed in the meantime. When another live Complete holds it, `run` waits
   * for that one (bounded) and then answers as a retry would.
   */
  prepareComplete(bucket: string, key: string, uploadId: string | null, requested: RequestedPart[], opts: CompleteOptions): CompletePlan {
    if (uploadId === null || !isUploadId(uploadId)) throw new StorageError("NoSuchUpload", { UploadId: uploadId ?? "" });
    const claim = tryLock(this.claimFile(bucket, uploadId));
    if (claim) return this.prepareClaimed(bucket, key, uploadId, requested, opts, claim);
    return {
      kind: "run",
      run: async () => {
        const held = await this.claim(bucket, uploadId);
        const plan = this.prepareClaimed(bucket, key, uploadId, requested, opts, held);
        return plan.kind === "done" ? plan.result : plan.run();
      },
    };
  }

  /** prepareComplete with the upload's claim held; the claim goes with the plan or is released. */
  private prepareClaimed(bucket: string, key: string, uploadId: string, requested: RequestedPart[], opts: CompleteOptions, claim: HeldLock): CompletePlan {
    let handedOver = false;
    try {
      const uploadsDir = bucketUploadsDir(this.backend.bucketDir(bucket));
      this.recoverOrphans(uploadsDir, uploadId);
      let up: OpenUpload;
      try {
        up = this.open(bucket, key, uploadId);
      } catch (e) {
        if (!isStorageError(e, "NoSuchUpload")) throw e;
        // Finished already: a retry of the same request gets the same answer.
        const done = readJson<CompletedUpload>(join(uploadsDir, `${uploadId}.done`));
        if (done && done.key === key && sameRequest(done, requested)) return { kind: "done", result: done };
        throw e;
      }
      const checked = this.check(up, opts);
      this.precheckConditions(bucket, key, opts);
      const lockDir = join(up.uploadsDir, `${up.uploadId}.completing-${suffix()}`);
      try {
        renameSync(up.dir, lockDir);
      } catch (e) {
        throw absentAs(e, "NoSuchUpload");
      }
      // Parts may have been replaced between the check and the rename; now nothing can change.
      // Checking again against the requested ETags also pins each part to what was checked.
      const locked = { ...up, dir: lockDir };
      let parts: PartRecord[];
      let stored: Map<number, PartRecord>;
      try {
        ({ parts, stored } = this.check(locked, opts));
      } catch (e) {
        this.unlock(locked, up.dir);
        throw e;
      }
      handedOver = true;
      return {
        kind: "run",
        run: () => this.assemble(bucket, key, locked, up.dir, parts, stored, checked.etag, checked.checksum, opts).finally(() => claim.release()),
      };
    } finally {
      if (!handedOver) claim.release();
    }
  }

  private check(up: OpenUpload, opts: CompleteOptions) {
    const stored = readParts(up.dir);
    return { ...opts.validate(stored, up.record.checksum), stored };
  }

  /** Fails early on write conditions; commit checks them again when it renames. */
  private precheckConditions(bucket: string, key: string, opts: CompleteOptions): void {
    if (!opts.check) return;
    let current: ObjectInfo | null = null;
    try {
      current = this.backend.headObject(bucket, key);
    } catch (e) {
      if (!isStorageError(e, "NoSuchKey")) throw e;
    }
    opts.check(current);
  }

  private async assemble(
    bucket: string,
    key: string,
    up: OpenUpload,
    originalDir: string,
    parts: PartRecord[],
    stored: Map<number, PartRecord>,
    etag: string,
    checksum: StoredChecksum | undefined,
    opts: CompleteOptions,
  ): Promise<CompletedUpload> {
    // `stored`: every record, read after the directory was renamed away, so nothing changed since.
    const plan = assemblyPlan(up.dir, parts, stored);
    let copyMethod: CopyMethod = "none";
    const targetPath = join(up.dir, plan.target);
    const rollback = () => {
      try {
        if (plan.kind === "new") rmSync(targetPath, { force: true });
        else if (plan.kind === "append") {
          const fd = openSync(targetPath, RW_NOFOLLOW);
          ftruncateSync(fd, plan.keep);
          closeSync(fd);
        }
        // in place: only bytes no record names were written or cut
      } catch {
        // the target is gone (it was committed) or unreadable: nothing to restore
      }
      this.unlock(up, originalDir);
    };
    let fd: number | null = plan.sharedFd;
    try {
      if (plan.kind === "new") fd = openSync(targetPath, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
      else if (plan.kind === "append") fd = openSync(targetPath, RW_NOFOLLOW);
      const have = fstatSync(fd!).size;
      if (have < plan.keep) throw new StorageError("Damaged", { Target: plan.target });
      for (const c of plan.copies) {
        const src = openSync(join(up.dir, c.part.file), constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          copyMethod = worseCopy(copyMethod, await copyRange(src, c.part.offset ?? 0, fd!, c.at, c.part.size));
        } finally {
          closeSync(src);
        }
      }
      if (fstatSync(fd!).size !== plan.size) ftruncateSync(fd!, plan.size);
      if (this.backend.fsync !== "none") fdatasyncSync(fd!);
      // The parts' file was their writers'; the object is whoever completes the upload.
      settleFd(fd!, opts.fileOwner, fstatSync(fd!));
      const st = fstatSync(fd!);
      closeSync(fd!);
      fd = null;
      const meta: ObjectMeta = {
        etag,
        headers: up.record.headers,
        user: up.record.user,
        ...(up.record.tags ? { tags: up.record.tags } : {}),
        ...(up.record.initiator ? { owner: up.record.initiator } : {}),
        ...(up.record.acl ? { acl: up.record.acl } : {}),
        ...(checksum ? { checksum } : {}),
        parts: parts.map((p) => p.size),
        ...(checksum && parts.every((p) => p.checksum) ? { partChecksums: parts.map((p) => p.checksum!.value) } : {}),
        ...lockFields(opts.lock),
        ...versionOf(st),
      };
      const result: CompletedUpload = {
        key,
        completedAt: new Date().toISOString(),
        etag,
        size: st.size,
        ...(checksum ? { checksum } : {}),
        copyMethod,
        assembly: plan.kind,
      };
      // If this process dies from here on, whoever recovers the upload learns what was committed.
      this.writeJson(join(up.dir, INTENT), { ...result, firstPart: plan.target });
      const committed = await this.backend.commitFile(bucket, key, targetPath, meta, { check: opts.check, exclusive: opts.exclusive, fileOwner: opts.fileOwner });
      if (committed.versionId !== undefined) result.versionId = committed.versionId;
      try {
        this.writeJson(join(up.uploadsDir, `${up.uploadId}.done`), result);
      } catch {
        // The object is in place; only an idempotent retry would miss the record.
      }
      // The parts' space is freed after the answer. First the directory takes a name recovery
      // ignores (while the claim is still held): a half-removed `.completing-*` would look like a
      // dead Complete. If the process dies before the removal, the sweep finds the leftover.
      const doomed = join(up.uploadsDir, `${up.uploadId}.aborting-${suffix()}`);
      try {
        renameSync(up.dir, doomed);
        void rm(doomed, { recursive: true, force: true }).catch(() => {});
      } catch {
        // already gone
      }
      return result;
    } catch (e) {
      if (fd !== null) closeSync(fd);
      rmSync(join(up.dir, INTENT), { force: true });
      rollback();
      throw absentAs(e);
    }
  }

  private unlock(up: OpenUpload, originalDir: string): void {
    try {
      renameSync(up.dir, originalDir);
    } catch {
      // left as .completing-*: cleanupUploads removes it once it is old
    }
  }

  /** Moves a finished temp file in as part `n`, replacing any earlier upload of that part. */
  private placePart(up: OpenUpload, n: number, tmpPath: string, info: { etag: string; size: number; checksum?: PartChecksum }): PartRecord {
    const file = `${partBase(n)}.${suffix()}`;
    try {
      renameSync(tmpPath, join(up.dir, file));
    } catch (e) {
      rmSync(tmpPath, { force: true });
      if (errno(e) === "ENOENT") throw new StorageError("NoSuchUpload", { UploadId: up.uploadId });
      throw absentAs(e);
    }
    return this.recordPart(up, n, file, info);
  }

  /** Makes `file` (at `info.offset`) part `n`; a replaced part's own data file is removed. */
  private recordPart(up: OpenUpload, n: number, file: string, info: { offset?: number; etag: string; size: number; checksum?: PartChecksum }): PartRecord {
    const record: PartRecord = { partNumber: n, file, lastModified: new Date().toISOString(), ...info };
    const jsonPath = join(up.dir, `${partBase(n)}.json`);
    const previous = readJson<PartRecord>(jsonPath);
    try {
      this.writeJson(jsonPath, record);
    } catch (e) {
      if (file !== SHARED_FILE) rmSync(join(up.dir, file), { force: true });
      if (errno(e) === "ENOENT") throw new StorageError("NoSuchUpload", { UploadId: up.uploadId });
      throw absentAs(e);
    }
    if (previous && previous.file !== file && PART_FILE.test(previous.file)) rmSync(join(up.dir, previous.file), { force: true });
    this.syncDir(up.dir);
    return record;
  }

  /** Whether part `n`'s current record names its slot at `offset` of the shared file. */
  private slotInUse(dir: string, n: number, offset: number): boolean {
    const rec = readJson<PartRecord>(join(dir, `${partBase(n)}.json`));
    return rec !== null && rec.file === SHARED_FILE && (rec.offset ?? 0) === offset;
  }

  private writeJson(path: string, value: unknown): void {
    writeFileAtomic(path, JSON.stringify(value), this.backend.fsync !== "none");
  }

  private syncDir(dir: string): void {
    if (this.backend.fsync !== "full") return;
    try {
      fsyncPath(dir);
    } catch {
      // renamed away by a Complete or Abort meanwhile
    }
  }
}

/**
 * Removes multipart state older than `olderThanMs` under every bucket of `root`: uploads by their
 * initiation time, and leftovers of crashed Completes and Aborts. Completion records go after 24 h
 * regardless. Safe to run beside live gateways: an upload is renamed away before it is removed,
 * exactly as Abort does. Returns how many uploads were removed.
 */
export function cleanupUploads(root: string, olderThanMs: number, now = Date.now()): number {
  let removed = 0;
  for (const bucket of listDir(root)) {
    if (!isServableBucketName(bucket)) continue;
    let uploadsDir: string;
    try {
      if (!lstatSync(join(root, bucket)).isDirectory()) continue; // a link is no bucket
      uploadsDir = bucketUploadsDir(join(root, bucket));
    } catch {
      continue; // a private area that is not the gateway's own (layout.ts) is left alone
    }
    for (const name of listDir(uploadsDir)) {
      const path = join(uploadsDir, name);
      if (isUploadId(name)) {
        const rec = readJson<UploadRecord>(join(path, "upload.json"));
        const born = rec ? Date.parse(rec.initiated) : mtimeMs(path);
        if (now - born < olderThanMs) continue;
        const doomed = `${path}.aborting-${suffix()}`;
        try {
          renameSync(path, doomed);
        } catch {
          continue; // taken by a Complete or Abort
        }
        rmSync(doomed, { recursive: true, force: true });
        removed++;
      } else if (name.endsWith(".done")) {
        if (now - mtimeMs(path) > Math.min(DONE_RECORD_TTL_MS, olderThanMs)) rmSync(path, { force: true });
      } else if (name.includes(".aborting-")) {
        if (now - mtimeMs(path) > STALE_TEMP_MS) rmSync(path, { recursive: true, force: true });
      } else if (name.includes(".completing-")) {
        if (now - mtimeMs(path) <= Math.max(olderThanMs, STALE_TEMP_MS)) continue;
        // A Complete still running (a huge object on a slow disk) holds its upload's claim; only
        // a dead one's directory may go.
        const claim = tryLock(keyLockFile(join(root, GATEWAY_DIR, "locks"), bucket, name.slice(0, name.indexOf(".completing-")), "u"));
        if (!claim) continue;
        try {
          rmSync(path, { recursive: true, force: true });
        } finally {
          claim.release();
        }
      } else if (name.startsWith(".new-")) {
        if (now - mtimeMs(path) > Math.max(olderThanMs, STALE_TEMP_MS)) rmSync(path, { recursive: true, force: true });
      }
    }
  }
  return removed;
}


interface AssemblyPlan {
  kind: "in-place" | "append" | "new";
  /** The file in the upload directory that becomes the object. */
  target: string;
  /** Its first bytes that are already right (append: part 1). */
  keep: number;
  /** Parts to copy in, and where they go. */
  copies: { part: PartRecord; at: number }[];
  size: number;
  /** In place: the shared file, held whole against part writers (part-slots.ts). */
  sharedFd: number | null;
}

/**
 * How Complete builds the object from `parts` (checked, in order), given every stored record:
 * - in place: the parts are 1..K, all but the last exactly the stride long, the last no longer,
 *   and no other record names bytes of the shared file past the object's end (those must survive
 *   a Complete that fails). Parts stored elsewhere are copied into their slots.
 * - append: part 1 has a file of its own; the others are copied after it (the way before shared files).
 * - new: everything is copied into a new file.
 */
function assemblyPlan(dir: string, parts: PartRecord[], records: Map<number, PartRecord>): AssemblyPlan {
  const size = parts.reduce((a, p) => a + p.size, 0);
  const stride = readStride(dir);
  const last = parts.length - 1;
  const fits =
    stride !== null &&
    parts.every(
      (p, i) =>
        p.partNumber === i + 1 &&
        (i === last ? p.size <= stride : p.size === stride) &&
        (p.file !== SHARED_FILE || p.offset === i * stride),
    ) &&
    ![...records.values()].some((r) => r.file === SHARED_FILE && r.partNumber > parts.length);
  const sharedFd = fits ? holdSharedFile(dir) : null;
  if (sharedFd !== null) {
    const copies = parts.filter((p) => p.file !== SHARED_FILE).map((p) => ({ part: p, at: (p.partNumber - 1) * stride! }));
    const placed = parts.filter((p) => p.file === SHARED_FILE);
    return { kind: "in-place", target: SHARED_FILE, keep: placed.length ? placed[placed.length - 1].offset! + placed[placed.length - 1].size : 0, copies, size, sharedFd };
  }
  const at = (i: number) => parts.slice(0, i).reduce((a, p) => a + p.size, 0);
  if (parts[0].file !== SHARED_FILE) {
    return { kind: "append", target: parts[0].file, keep: parts[0].size, copies: parts.slice(1).map((p, i) => ({ part: p, at: at(i + 1) })), size, sharedFd: null };
  }
  return { kind: "new", target: `assembly.${suffix()}`, keep: 0, copies: parts.map((p, i) => ({ part: p, at: at(i) })), size, sharedFd: null };
}

function readParts(dir: string): Map<number, PartRecord> {
  const out = new Map<number, PartRecord>();
  for (const name of listDir(dir)) {
    const m = PART_JSON.exec(name);
    if (!m) continue;
    const rec = readJson<PartRecord>(join(dir, name));
    // A record names its data file; anything but one of ours (`../..`, a path) is not trusted.
    if (!rec || rec.partNumber !== Number(m[1]) || typeof rec.file !== "string") continue;
    const shared = rec.file === SHARED_FILE && Number.isSafeInteger(rec.offset) && rec.offset! >= 0;
    if (shared || (PART_FILE.test(rec.file) && rec.offset === undefined)) out.set(rec.partNumber, rec);
  }
  return out;
}

function linkCount(path: string): number {
  try {
    return statSync(path).nlink;
  } catch {
    return 0;
  }
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return null;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}


