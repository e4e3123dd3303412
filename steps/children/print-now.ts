// Output of child processes that may be SIGKILLed at any moment.
import { writeSync } from 'node:fs';

/**
 * Written straight to the pipe before the caller goes on — never buffered in
 * this process — so that every line printed before a SIGKILL is in the pipe
 * (process.stdout may buffer a pipe's writes in memory, and a killed process
 * loses them).
 */
export function printNow(line: string): void {
  const bytes = Buffer.from(line);
  let at = 0;
  while (at < bytes.length) {
    try {
      at += writeSync(1, bytes, at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}
