// A minimal reader for wheels (zip files): lists entries, reads small ones
// into memory and streams large ones to disk. It reads a local file or, for
// --dry-run, a remote one through HTTP range requests, so the dependency list
// inside a 600 MB wheel costs a few kilobytes. Written here so that setup needs
// neither `unzip` nor Python's zipfile on the machine.
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, inflateRawSync } from 'node:zlib';

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

/** Reads `length` bytes at `offset` from a local file. */
export function fileSource(path) {
  return {
    path,
    async size() {
      const handle = await open(path, 'r');
      try {
        return (await handle.stat()).size;
      } finally {
        await handle.close();
      }
    },
    async read(offset, length) {
      const handle = await open(path, 'r');
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}

/** Reads byte ranges of a remote file (the server must honour Range, as PyPI's file host does). */
export function urlSource(url, knownSize) {
  return {
    path: null,
    async size() {
      if (knownSize) return knownSize;
      const response = await fetch(url, { method: 'HEAD' });
      if (!response.ok) throw new Error(`HEAD ${url}: HTTP ${response.status}`);
      return Number(response.headers.get('content-length'));
    },
    async read(offset, length) {
      const response = await fetch(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
      if (response.status !== 206) throw new Error(`range request to ${url}: HTTP ${response.status} (expected 206)`);
      return Buffer.from(await response.arrayBuffer());
    },
  };
}

function u64(buffer, offset) {
  return Number(buffer.readBigUInt64LE(offset));
}

/** Locates the central directory: end record, then the zip64 records when offsets overflow 32 bits. */
async function centralDirectory(source) {
  const size = await source.size();
  const tailLength = Math.min(size, 65557 + 20);
  const tail = await source.read(size - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new Error('not a zip file (no end of central directory record)');
  let count = tail.readUInt16LE(at + 10);
  let length = tail.readUInt32LE(at + 12);
  let offset = tail.readUInt32LE(at + 16);
  if (offset === U32_MAX && at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR) {
    const record = await source.read(u64(tail, at - 20 + 8), 56);
    if (record.readUInt32LE(0) !== ZIP64_EOCD) throw new Error('broken zip64 end record');
    count = u64(record, 32);
    length = u64(record, 40);
    offset = u64(record, 48);
  }
  return { count, buffer: await source.read(offset, length) };
}

/** Reads the 64-bit sizes and offset that replace 0xFFFFFFFF fields (zip64 extra field 0x0001). */
function applyZip64(entry, extra) {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (id === 0x0001) {
      let field = at + 4;
      for (const key of ['size', 'compressedSize', 'localOffset']) {
        if (entry[key] === U32_MAX) {
          entry[key] = u64(extra, field);
          field += 8;
        }
      }
    }
    at += 4 + length;
  }
}

/** Opens a zip: `entries` maps each name to its record; read and extract take a record. */
export async function openZip(source) {
  const { count, buffer } = await centralDirectory(source);
  const entries = new Map();
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (buffer.readUInt32LE(at) !== CENTRAL) throw new Error('broken zip central directory');
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    const name = buffer.toString('utf8', at + 46, at + 46 + nameLength);
    const entry = {
      name,
      method: buffer.readUInt16LE(at + 10),
      compressedSize: buffer.readUInt32LE(at + 20),
      size: buffer.readUInt32LE(at + 24),
      // Unix permission bits live in the high half of the external attributes.
      mode: (buffer.readUInt32LE(at + 38) >>> 16) & 0o777,
      localOffset: buffer.readUInt32LE(at + 42),
    };
    applyZip64(entry, buffer.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength));
    entries.set(name, entry);
    at += 46 + nameLength + extraLength + commentLength;
  }

  /** Where an entry's data starts: after its local header, whose extra field may differ from the central one. */
  async function dataOffset(entry) {
    const header = await source.read(entry.localOffset, 30);
    if (header.readUInt32LE(0) !== LOCAL) throw new Error(`broken local header for ${entry.name}`);
    return entry.localOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  }

  function checkMethod(entry) {
    if (entry.method !== 0 && entry.method !== 8) {
      throw new Error(`${entry.name}: unsupported zip compression method ${entry.method}`);
    }
  }

  return {
    entries,
    /** The whole entry in memory: for small files such as METADATA. */
    async read(entry) {
      checkMethod(entry);
      const data = await source.read(await dataOffset(entry), entry.compressedSize);
      return entry.method === 8 ? inflateRawSync(data) : data;
    },
    /** Streams an entry to `destination` (local zips only), keeping its permission bits. */
    async extract(entry, destination) {
      if (!source.path) throw new Error('extract needs a local zip file');
      checkMethod(entry);
      const start = await dataOffset(entry);
      const input = createReadStream(source.path, { start, end: start + entry.compressedSize - 1 });
      const output = createWriteStream(destination, { mode: entry.mode || 0o644 });
      if (entry.compressedSize === 0) {
        input.destroy();
        output.end();
        await new Promise((resolve, reject) => output.on('finish', resolve).on('error', reject));
        return;
      }
      await (entry.method === 8 ? pipeline(input, createInflateRaw(), output) : pipeline(input, output));
    },
  };
}
