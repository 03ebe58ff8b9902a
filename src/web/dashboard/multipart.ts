/**
 * A bounded reader of `multipart/form-data` bodies (the image upload form): the whole body is read up to a
 * limit, then split at the boundary. Only what the form has is kept: text fields and files by name, with at
 * most `maxParts` parts.
 */
import type { Request } from 'express';

export interface MultipartForm {
  fields: Map<string, string>;
  files: Map<string, { filename: string; bytes: Buffer }>;
}

export type MultipartResult =
  { ok: true; form: MultipartForm } | { ok: false; status: 400 | 413; detail: string };

/** Reads the body of `req`, refusing more than `maxBytes`. */
export async function readMultipart(req: Request, maxBytes: number, maxParts = 10): Promise<MultipartResult> {
  const type = req.headers['content-type'] ?? '';
  const m = /^multipart\/form-data;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(type);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return { ok: false, status: 400, detail: 'send the form as multipart/form-data' };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes)
      return { ok: false, status: 413, detail: `the upload is larger than ${maxBytes} bytes` };
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const delimiter = Buffer.from(`--${boundary}`);
  const form: MultipartForm = { fields: new Map(), files: new Map() };
  let at = body.indexOf(delimiter);
  let parts = 0;
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') return { ok: true, form };
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    if (++parts > maxParts) return { ok: false, status: 400, detail: 'the form has too many parts' };
    // Each part: CRLF, headers, CRLF CRLF, content, CRLF before the next delimiter.
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) return { ok: false, status: 400, detail: 'a part of the form has no headers' };
    const headers = part.subarray(0, split).toString('utf8');
    const content = part.subarray(split + 4);
    const disposition = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]{1,64})"/.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]{0,255})"/.exec(disposition)?.[1];
    if (!name) return { ok: false, status: 400, detail: 'a part of the form has no name' };
    if (filename !== undefined) form.files.set(name, { filename, bytes: Buffer.from(content) });
    else form.fields.set(name, content.toString('utf8'));
    at = next;
  }
  return { ok: false, status: 400, detail: 'the form ends before its closing boundary' };
}
