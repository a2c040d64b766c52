/** Test helpers for the CLI: a stream that keeps what `main` writes. */

/** A fake stream that keeps what the CLI writes in `text`. */
export function sink(): NodeJS.WriteStream & { text: string } {
  const stream = {
    text: "",
    isTTY: false,
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}
