/** Small HTML helpers shared by the parts of the living documentation. */

export const escapeHtml = (text: unknown) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toLocaleString('en-US');
}

export function formatSeconds(seconds: number): string {
  if (seconds < 0.001) return '0 s';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** A name usable as an HTML id and in a #link. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

/** Gherkin descriptions as prose: paragraphs, "- " lists and `code`. */
export function prose(description: string | undefined): string {
  if (!description?.trim()) return '';
  const lines = description.split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^\s*/)![0].length));
  const blocks = lines.map((l) => l.slice(indent)).join('\n').trim().split(/\n\s*\n/);
  const inline = (t: string) => escapeHtml(t).replace(/`([^`]+)`/g, '<code>$1</code>');
  const list = (items: string[]) => `<ul>${items.map((l) => `<li>${inline(l.trim().slice(2))}</li>`).join('')}</ul>`;
  return blocks
    .map((block) => {
      const items = block.split('\n');
      const firstItem = items.findIndex((l) => l.trim().startsWith('- '));
      if (firstItem < 0 || !items.slice(firstItem).every((l) => l.trim().startsWith('- '))) return `<p>${inline(items.join(' '))}</p>`;
      return `${firstItem > 0 ? `<p>${inline(items.slice(0, firstItem).join(' '))}</p>` : ''}${list(items.slice(firstItem))}`;
    })
    .join('\n');
}

/** Verdict labels as a reader says them. */
export function verdictLabel(verdict: string): string {
  switch (verdict) {
    case 'PASSED':
      return '✔ passed';
    case 'SKIPPED':
      return '⤼ skipped';
    case 'UNKNOWN':
      return '✖ did not finish';
    case 'NOT RUN':
      return '✖ did not run';
    default:
      return `✖ ${verdict.toLowerCase()}`;
  }
}

/** The CSS class of a verdict: passed, skipped, or failed for everything that needs a look. */
export function verdictClass(verdict: string): string {
  return verdict === 'PASSED' ? 'passed' : verdict === 'SKIPPED' ? 'skipped' : 'failed';
}
