/** Up to this many names are spelled out; past it, the first two and how many others. */
const NAMES_SPELLED_OUT = 3;

/**
 * What the typing line says about `names` (in the order they started typing):
 * "Ada is typing…", "Ada and Grace are typing…", "Ada, Grace and Lin are typing…",
 * "Ada, Grace and 2 others are typing…"; the empty string for nobody.
 */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length <= NAMES_SPELLED_OUT) {
    return `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
  }
  const others = names.length - 2;
  return `${names[0]}, ${names[1]} and ${others} ${others === 1 ? 'other' : 'others'} are typing…`;
}
