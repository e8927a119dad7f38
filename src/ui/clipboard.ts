/**
 * Puts `text` on the clipboard and answers whether it got there. Outside a secure context
 * (plain http to a LAN address) the page has no clipboard at all, and a browser may refuse
 * the write: both answer false, so nobody is told a link was copied when it was not.
 */
export async function copyText(text: string): Promise<boolean> {
  // Typed as always there, but absent outside a secure context.
  const clipboard: Clipboard | undefined = navigator.clipboard;
  if (!clipboard) return false;
  try {
    await clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
