// Parts written where the object will have them. Every upload directory holds one shared data file
// (`parts.data`); once the upload's stride is known (kept in `stride`: the size of the first part
// to arrive that is part 1 or a multiple of 64 KiB, and at least 1 MiB), part n of at most that size is written straight into the shared
// file at (n - 1) × stride. When every part but the last has exactly the stride's size, as every
// SDK uploads, the shared file already is the object and Complete only truncates and renames it.
//
// Who may write where, across every process serving the root, is kept with open-file-description
// byte-range locks on the shared file (the kernel drops them with the descriptor or the process):
//   - a part writer holds the lock on byte n (its part number) from before it writes until its
//     record is in place, so two requests never write one slot at once;
//   - it writes only a slot no record points to: the bytes a record names stay as they are until
//     a new upload of that part is whole (that one then goes to a file of its own);
//   - Complete holds the whole file, so no writer is inside it; a writer that took its slot first
//     makes Complete copy instead (kernel-copy.ts), which is always correct.
// A writer checks, with its slot held, that the upload directory still names its shared file: once
// Complete or Abort renamed the directory away, nothing more is written into the file.
import { closeSync, constants, fstatSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { tryRangeLock } from "./kernel.ts";

export const SHARED_FILE = "parts.data";
const STRIDE_FILE = "stride";
/**
 * Smaller parts never decide the stride, nor (but for part 1) parts whose size is not a multiple of
 * 64 KiB: every SDK's part size is one, a last part almost never, and a last part arriving first
 * (uploads of a few parts send them all at once) would otherwise send every other part elsewhere.
 */
export const MIN_STRIDE = 1024 * 1024;
const STRIDE_GRAIN = 64 * 1024;
/** Slots end below this (8 TiB, well inside what ext4, xfs and btrfs allow in one file). */
const MAX_END = 2 ** 43;

/** Creates the empty shared file of a new upload (in its staging directory). */
export function createSharedFile(dir: string): void {
  writeFileSync(join(dir, SHARED_FILE), "", { flag: "wx", mode: 0o644 });
}

/** The upload's stride, or null while no part has set it. */
export function readStride(dir: string): number | null {
  try {
    const n = Number(readFileSync(join(dir, STRIDE_FILE), "utf8"));
    return Number.isSafeInteger(n) && n >= MIN_STRIDE ? n : null;
  } catch {
    return null;
  }
}

/** The stride, set to `proposal` if none is yet (the first to link the file wins). */
function strideFor(dir: string, n: number, proposal: number): number | null {
  const known = readStride(dir);
  if (known !== null || proposal < MIN_STRIDE || (n !== 1 && proposal % STRIDE_GRAIN !== 0)) return known;
  const tmp = join(dir, `.stride-${randomBytes(6).toString("hex")}`);
  try {
    writeFileSync(tmp, String(proposal), { flag: "wx" });
    linkSync(tmp, join(dir, STRIDE_FILE));
    return proposal;
  } catch {
    return readStride(dir); // another writer linked first, or the upload is gone (then null)
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
  }
}

export interface Slot {
  /** The shared file, open for writing, with this slot's lock held. */
  fd: number;
  offset: number;
  /** Closes the descriptor, which drops the lock; call once the part's record is written. */
  release(): void;
}

/**
 * The slot of part `n` (`size` bytes) in the shared file, locked for this writer; null when the
 * part goes to a file of its own: no range locks (no addon), an upload made before shared files,
 * a part larger than the stride, a slot another request is writing or Complete holds, or a slot
 * whose bytes are still the part's current ones (`slotInUse` reads the record, with the lock held).
 */
export function takeSlot(dir: string, n: number, size: number, slotInUse: (offset: number) => boolean): Slot | null {
  if (size <= 0) return null;
  const stride = strideFor(dir, n, size);
  if (stride === null || size > stride) return null;
  const offset = (n - 1) * stride;
  if (offset + stride > MAX_END) return null;
  let fd: number;
  try {
    fd = openSync(join(dir, SHARED_FILE), constants.O_RDWR | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  let keep = false;
  try {
    if (tryRangeLock(fd, n, 1) !== true) return null;
    // With the slot held: the directory still names this file (no Complete or Abort took it), and
    // no record names the bytes about to be overwritten.
    const here = statSync(join(dir, SHARED_FILE));
    const mine = fstatSync(fd);
    if (here.ino !== mine.ino || here.dev !== mine.dev || slotInUse(offset)) return null;
    keep = true;
    return { fd, offset, release: () => closeSync(fd) };
  } catch {
    return null;
  } finally {
    if (!keep) closeSync(fd);
  }
}

/**
 * Opens the shared file for Complete with the whole file locked: no part writer is inside it until
 * the descriptor is closed. null when a writer is (Complete then copies) or there is none.
 */
export function holdSharedFile(dir: string): number | null {
  let fd: number;
  try {
    fd = openSync(join(dir, SHARED_FILE), constants.O_RDWR | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    if (tryRangeLock(fd, 0, 0) === true) return fd;
  } catch {
    // no locks on this filesystem: treat as held by someone
  }
  closeSync(fd);
  return null;
}
