/** Reading what a launched process left behind: a file that may not exist yet, the last lines of a log. */
import { readFileSync } from 'node:fs'

export function readIfExists (file: string): string | undefined {
  try { return readFileSync(file, 'utf8') } catch { return undefined }
}

export function tail (text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

/** The last `lines` lines of a log file, or "(no log)". */
export function fileTail (file: string, lines = 40): string {
  return tail(readIfExists(file) ?? '(no log)', lines)
}
