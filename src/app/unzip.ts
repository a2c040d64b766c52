/**
 * A small, defensive reader for the zip archives GitHub serves for Actions artifacts: it extracts
 * named entries into memory (nothing is written to disk), stored or deflated, with a size cap per
 * entry that is enforced on the output of inflate itself (a lying header cannot make it allocate
 * more), and a CRC-32 check. Format: PKWARE APPNOTE.TXT 6.3 (end of central directory, central
 * directory headers, local file headers); ZIP64, encryption and other methods are refused.
 */
import { crc32, inflateRawSync } from "node:zlib";

/** An archive that cannot be read, or an entry that breaks a limit. */
export class ZipError extends Error {
  override name = "ZipError";
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** EOCD is 22 bytes plus a comment of at most 65,535 bytes. */
const EOCD_SEARCH = 22 + 0xffff;

/** One entry of the central directory. */
interface Entry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/**
 * Extracts the entries named in `limits` (exact names inside the archive, e.g. "results.json") and
 * returns their bytes; names not present are absent from the result.
 * @param limits entry name → largest accepted uncompressed size, bytes.
 * @throws ZipError for a malformed archive, ZIP64, encryption, an unknown method, an entry over its
 *   limit, a size or CRC mismatch.
 */
export function extractEntries(zip: Buffer, limits: ReadonlyMap<string, number>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of centralDirectory(zip)) {
    const limit = limits.get(entry.name);
    if (limit === undefined) continue;
    if (out.has(entry.name)) throw new ZipError(`${entry.name} appears twice in the archive`);
    if (entry.size > limit)
      throw new ZipError(`${entry.name} is ${entry.size} bytes, over the limit of ${limit}`);
    out.set(entry.name, readEntry(zip, entry, limit));
  }
  return out;
}

/** Reads and checks the central directory. */
function centralDirectory(zip: Buffer): Entry[] {
  const from = Math.max(0, zip.length - EOCD_SEARCH);
  let eocd = -1;
  for (let i = zip.length - 22; i >= from; i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError("not a zip archive (no end of central directory)");
  const count = zip.readUInt16LE(eocd + 10);
  const size = zip.readUInt32LE(eocd + 12);
  const offset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff)
    throw new ZipError("ZIP64 archives are not supported");
  if (offset + size > eocd) throw new ZipError("central directory lies outside the archive");
  const entries: Entry[] = [];
  let p = offset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > eocd || zip.readUInt32LE(p) !== CENTRAL)
      throw new ZipError(`bad central directory entry ${k}`);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    entries.push({
      flags: zip.readUInt16LE(p + 8),
      method: zip.readUInt16LE(p + 10),
      crc: zip.readUInt32LE(p + 16),
      compressedSize: zip.readUInt32LE(p + 20),
      size: zip.readUInt32LE(p + 24),
      localOffset: zip.readUInt32LE(p + 42),
      name: zip.toString("utf8", p + 46, p + 46 + nameLength),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Inflates or copies one entry, at most `limit` bytes, and checks size and CRC-32. */
function readEntry(zip: Buffer, entry: Entry, limit: number): Buffer {
  if (entry.flags & 0x1) throw new ZipError(`${entry.name} is encrypted`);
  const p = entry.localOffset;
  if (p + 30 > zip.length || zip.readUInt32LE(p) !== LOCAL)
    throw new ZipError(`${entry.name}: bad local header`);
  const start = p + 30 + zip.readUInt16LE(p + 26) + zip.readUInt16LE(p + 28);
  const end = start + entry.compressedSize;
  if (end > zip.length) throw new ZipError(`${entry.name}: data runs past the end of the archive`);
  const raw = zip.subarray(start, end);
  let data: Buffer;
  if (entry.method === 0) data = Buffer.from(raw);
  else if (entry.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: limit + 1 });
    } catch (error) {
      throw new ZipError(
        `${entry.name}: cannot inflate (${(error as Error).message}); over ${limit} bytes or corrupt`,
        { cause: error },
      );
    }
  } else throw new ZipError(`${entry.name}: compression method ${entry.method} is not supported`);
  if (data.length > limit) throw new ZipError(`${entry.name} inflates past the limit of ${limit} bytes`);
  if (data.length !== entry.size)
    throw new ZipError(`${entry.name}: ${data.length} bytes, header says ${entry.size}`);
  if (crc32(data) >>> 0 !== entry.crc >>> 0) throw new ZipError(`${entry.name}: CRC-32 mismatch`);
  return data;
}
