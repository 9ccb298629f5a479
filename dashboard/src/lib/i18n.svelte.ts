/**
 * The message catalog (src/messages/): English and German, chosen in the header and kept in
 * localStorage; the browser's language picks the first time.
 */
import { de } from '../messages/de.ts';
import { en, type MessageKey } from '../messages/en.ts';

export const LOCALES = [
  { id: 'en', name: 'English', messages: en as Record<MessageKey, string> },
  { id: 'de', name: 'Deutsch', messages: de },
] as const;
export type LocaleId = (typeof LOCALES)[number]['id'];

const STORAGE_KEY = 'mcp-director.locale';

function initial(): LocaleId {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'en' || stored === 'de') return stored;
  return navigator.language.toLowerCase().startsWith('de') ? 'de' : 'en';
}

export const locale = $state({ id: initial() });

export function setLocale(id: LocaleId): void {
  locale.id = id;
  localStorage.setItem(STORAGE_KEY, id);
  document.documentElement.lang = id;
}

/** The message in the chosen locale, `{name}` replaced by `params.name`. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const messages = (LOCALES.find((l) => l.id === locale.id) ?? LOCALES[0]).messages;
  return messages[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(locale.id);
}

export function formatDateTime(ms: number): string {
  return new Date(ms).toLocaleString(locale.id);
}

export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString(locale.id, { maximumFractionDigits: digits });
}
