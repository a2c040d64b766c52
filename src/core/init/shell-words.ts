/**
 * A POSIX-sh-like word splitter for one command line, enough to read the arguments of a hyperfine
 * call written in a Makefile, justfile, package.json script or shell script: single and double
 * quotes, backslash escapes, comments, and the control operators that end a simple command. It
 * expands nothing (`$VAR` stays as written): init never runs anything to find out.
 */

/** A word with its quotes removed, or a control operator (`&&`, `||`, `;`, `|`, `&`, `(`, `)`, redirections). */
export interface ShellToken {
  /** The word's value as the program would receive it (quotes removed), or the operator. */
  value: string;
  operator: boolean;
}

const OPERATORS = ["&&", "||", ">>", ";;", ";", "|", "&", "(", ")", ">", "<"];

/**
 * Splits `line` into words and operators. An unterminated quote ends at the end of the line (the
 * rest is one word). A `#` at the start of a word begins a comment that runs to the end.
 */
export function shellWords(line: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let word = "";
  let inWord = false;
  const end = () => {
    if (inWord) tokens.push({ value: word, operator: false });
    word = "";
    inWord = false;
  };
  let i = 0;
  while (i < line.length) {
    const c = line[i] ?? "";
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      const stop = close < 0 ? line.length : close;
      word += line.slice(i + 1, stop);
      inWord = true;
      i = stop + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      while (i < line.length && line[i] !== '"') {
        // Inside double quotes a backslash escapes only $ ` " \ and a newline (POSIX 2.2.3).
        if (line[i] === "\\" && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1] ?? "")) i++;
        word += line[i];
        i++;
      }
      i++;
    } else if (c === "\\") {
      if (i + 1 < line.length) word += line[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(c)) {
      end();
      i++;
    } else if (c === "#" && !inWord) {
      break;
    } else {
      const op = OPERATORS.find((o) => line.startsWith(o, i));
      if (op !== undefined) {
        end();
        tokens.push({ value: op, operator: true });
        i += op.length;
      } else {
        word += c;
        inWord = true;
        i++;
      }
    }
  }
  end();
  return tokens;
}
