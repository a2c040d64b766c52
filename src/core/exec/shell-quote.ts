/**
 * POSIX sh quoting for the command lines perfloop writes for people (reproduce lines, init's
 * evidence) and for the shell (nsys's wrapper).
 */

/**
 * `word` as one sh word: unchanged when it holds only safe characters (`A-Za-z0-9_./:=@%+,-`), else
 * single-quoted with each `'` written `'\''`.
 */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
