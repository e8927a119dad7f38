/**
 * A public room's id from the name typed for it: lower case, words joined by `-`, only
 * what a room id may hold (see ROOM_ID_PATTERN), at most 64 characters; "" when nothing
 * is left. "Trip to Oslo!" is `trip-to-oslo`: the id is the name, so anyone who types the
 * same name reaches the same room, and it reads well in a link.
 */
export function roomIdFromName(name: string): string {
  return name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
}
