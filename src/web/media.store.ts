/**
 * Uploaded images (group icons and banners) on local disk, content-addressed as `<sha256>.<ext>` and served
 * at `/media/<sha256>.<ext>`. Several processes may write the same file: writes go through a temporary file
 * and a rename, so a reader never sees half an image.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.ts';
import {
  imageContentType,
  MAX_IMAGE_BYTES,
  type ImageExtension,
  type MediaStore,
  type SniffedImage,
} from '../groups/settings.service.ts';

/** File names the media route serves: a SHA-256 in hex and a known image extension. */
export const MEDIA_FILE_RE = /^([0-9a-f]{64})\.(png|jpg|gif|webp)$/;

/** The media directory: `media/` next to the SQLite file (`data/media/` by default). */
export function mediaDirFor(config: Pick<Config, 'sqlitePath'>): string {
  return path.join(path.dirname(config.sqlitePath), 'media');
}

export class FileMediaStore implements MediaStore {
  constructor(
    private readonly dir: string,
    /** Public origin of this server, without trailing slash. */
    private readonly origin: string,
  ) {}

  async saveImage(image: SniffedImage): Promise<string> {
    const name = `${image.sha256}.${image.ext}`;
    if (!MEDIA_FILE_RE.test(name)) throw new Error(`not a media file name: ${name}`);
    await mkdir(this.dir, { recursive: true });
    const target = path.join(this.dir, name);
    if (!(await exists(target))) {
      const tmp = path.join(this.dir, `.${name}.${randomUUID()}.tmp`);
      await writeFile(tmp, image.bytes, { mode: 0o644 });
      await rename(tmp, target);
    }
    return `${this.origin}/media/${name}`;
  }

  /** The stored image of that file name, or null when the name is not a media name or the file is absent. */
  async read(fileName: string): Promise<{ bytes: Buffer; contentType: string } | null> {
    const m = MEDIA_FILE_RE.exec(fileName);
    if (!m) return null;
    try {
      const file = path.join(this.dir, fileName);
      const info = await stat(file);
      if (!info.isFile() || info.size > MAX_IMAGE_BYTES) return null;
      return { bytes: await readFile(file), contentType: imageContentType(m[2] as ImageExtension) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
