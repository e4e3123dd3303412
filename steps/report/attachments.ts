/**
 * Attachments of any media type, shown safely inside the page: images as
 * data: URLs (an <img> neither runs scripts nor fetches), text and HTML as
 * text, JSON pretty-printed, anything else as a download of its bytes.
 * Nothing is fetched: an externalised attachment (url) is named, not loaded.
 */
import type { Attachment } from './run-model';
import { escapeHtml } from './html';

/** Text longer than this is cut (the full attachment is in cucumber.html). */
const TEXT_LIMIT = 4000;
/** Images and downloads larger than this are named instead of embedded: the page stays small. */
const EMBED_LIMIT = 256 * 1024;

const LOG_MEDIA_TYPE = 'text/x.cucumber.log+plain';
const LINK_MEDIA_TYPE = 'text/uri-list';

const bytesOf = (a: Attachment) => (a.base64 ? Buffer.from(a.body, 'base64') : Buffer.from(a.body, 'utf8'));
const textOf = (a: Attachment) => (a.base64 ? Buffer.from(a.body, 'base64').toString('utf8') : a.body);

function cut(text: string): string {
  if (text.length <= TEXT_LIMIT) return escapeHtml(text);
  return `${escapeHtml(text.slice(0, TEXT_LIMIT))}<span class="cut">… ${(text.length - TEXT_LIMIT).toLocaleString('en-US')} more characters (see the full cucumber report)</span>`;
}

function isText(mediaType: string): boolean {
  return /^text\//.test(mediaType) || /[+/](json|xml|yaml|csv|javascript)$/.test(mediaType) || mediaType === 'application/x-ndjson';
}

export function attachmentHtml(a: Attachment): string {
  const type = a.mediaType.split(';')[0].trim().toLowerCase();
  const name = a.fileName ? ` <span class="file-name">${escapeHtml(a.fileName)}</span>` : '';
  const head = `<span class="media-type">${escapeHtml(type)}</span>${name}`;
  if (a.url) return `<div class="attachment" data-media-type="${escapeHtml(type)}">${head} stored outside the report: <code>${escapeHtml(a.url)}</code></div>`;
  if (type === LOG_MEDIA_TYPE) return `<div class="attachment log" data-media-type="${escapeHtml(type)}"><pre>${cut(textOf(a))}</pre></div>`;
  if (type === LINK_MEDIA_TYPE) {
    const links = textOf(a).split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#'));
    // Named, not linked: the page refers to nothing on the network.
    return `<div class="attachment link" data-media-type="${escapeHtml(type)}">${head} ${links.map((l) => `<code>${escapeHtml(l.trim())}</code>`).join(' ')}</div>`;
  }
  if (type.startsWith('image/')) {
    const bytes = a.base64 || !/^image\/svg/.test(type) ? bytesFromMaybeBase64(a) : bytesOf(a);
    if (bytes.length > EMBED_LIMIT) return `<div class="attachment" data-media-type="${escapeHtml(type)}">${head} (${bytes.length.toLocaleString('en-US')} bytes: too large to embed, see the full cucumber report)</div>`;
    return `<div class="attachment image" data-media-type="${escapeHtml(type)}">${head}<img alt="${escapeHtml(a.fileName ?? type)}" src="data:${escapeHtml(type)};base64,${bytes.toString('base64')}"></div>`;
  }
  if (type === 'application/json' || type.endsWith('+json')) {
    let text = textOf(a);
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Not valid JSON after all: shown as it came.
    }
    return `<div class="attachment" data-media-type="${escapeHtml(type)}">${head}<pre>${cut(text)}</pre></div>`;
  }
  if (isText(type)) return `<div class="attachment" data-media-type="${escapeHtml(type)}">${head}<pre>${cut(textOf(a))}</pre></div>`;
  const bytes = bytesOf(a);
  if (bytes.length > EMBED_LIMIT) return `<div class="attachment" data-media-type="${escapeHtml(type)}">${head} (${bytes.length.toLocaleString('en-US')} bytes: too large to embed, see the full cucumber report)</div>`;
  return `<div class="attachment" data-media-type="${escapeHtml(type)}">${head} <a download="${escapeHtml(a.fileName ?? 'attachment')}" href="data:application/octet-stream;base64,${bytes.toString('base64')}">download ${bytes.length.toLocaleString('en-US')} bytes</a></div>`;
}

/** cucumber-js sends an image attached as a string with IDENTITY encoding although the string is base64. */
function bytesFromMaybeBase64(a: Attachment): Buffer {
  if (a.base64) return Buffer.from(a.body, 'base64');
  return /^[A-Za-z0-9+/=\s]+$/.test(a.body) ? Buffer.from(a.body, 'base64') : Buffer.from(a.body, 'utf8');
}
