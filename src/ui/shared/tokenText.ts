/** A token as shown in chips: line breaks and tabs become visible marks so a token never spans several lines. */
export function showToken(text: string): string {
  return text.replace(/\r?\n/g, '↵').replace(/\t/g, '→');
}
