import { Presets, SingleBar } from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

/**
 * A progress bar on stdout for long work, only when stdout is a terminal:
 * piped output and the features' runs stay plain text.
 */
export function progressBar(label: string, total: number, unit: string): Progress {
  if (!process.stdout.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta}s`, hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
