/**
 * DICOM DA / TM / DT and (0008,0201) Timezone Offset From UTC → FHIR date and
 * dateTime (PS3.5 Table 6.2-1; FHIR datatypes "date", "dateTime").
 *
 * Rules (mapping.md "Timezone", "Partial values"):
 * - DA is `YYYYMMDD` and must be a real calendar date. The ACR-NEMA form
 *   `YYYY.MM.DD` (PS3.5 "Retired" note) is tolerated: it is unambiguous.
 * - TM is `HH`, `HHMM`, `HHMMSS` or `HHMMSS.F{1,6}`; the ACR-NEMA form
 *   `HH:MM[:SS[.F{1,6}]]` is tolerated. `HH` → `HH:00:00`, `HHMM` →
 *   `HH:MM:00`. Fractional seconds are kept exactly as given (1–6 digits).
 *   SS may be 60 (leap second), as in both DICOM and FHIR.
 * - A time always gets an offset: (0008,0201) when present and valid
 *   (`+HHMM`/`-HHMM`, -12:00..+14:00), else the offset the IANA zone had at
 *   that wall-clock time (computed with Intl.DateTimeFormat, DST-correct).
 *   Local time is never labelled UTC. If no offset can be found (bad zone
 *   name), the time is dropped and only the date is kept.
 * - DST overlap (wall time occurs twice): the earlier instant, i.e. the
 *   offset in force before the transition (Temporal's "compatible").
 *   DST gap (wall time does not exist): the wall-clock digits are kept and
 *   labelled with the offset in force before the transition, which denotes
 *   the same instant as Temporal's "compatible" (e.g. Paris 02:30 on the
 *   spring-forward day → `02:30:00+01:00` = 03:30+02:00).
 * - A date without a time stays a date; a time without a date is dropped.
 * - A partial DA, `YYYY` or `YYYYMM` (not DICOM's DA, but sent by systems that
 *   know only the year or month, mostly for birth dates), keeps its precision:
 *   FHIR's date and dateTime both allow `YYYY` and `YYYY-MM`. A dateTime with
 *   a time needs a full date, so a time with a partial date is dropped (and
 *   reported): `started` is then `YYYY` or `YYYY-MM`.
 * - Malformed values are dropped and reported through `onDropped`; nothing
 *   here throws.
 */

export type DropSink = (what: string, value: string) => void;

export interface DicomDate {
  year: number;
  month: number;
  day: number;
}

export interface DicomTime {
  hour: number;
  minute: number;
  second: number;
  /** Fraction digits as given (no dot), '' when none. */
  fraction: string;
}

const DA_RE = /^(\d{4})(\d{2})(\d{2})$/;
const DA_PARTIAL_RE = /^(\d{4})(\d{2})?$/;
const DA_OLD_RE = /^(\d{4})\.(\d{2})\.(\d{2})$/;
const TM_RE = /^(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?$/;
const TM_OLD_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;
const OFFSET_RE = /^([+-])(\d{2})(\d{2})$/;
const DT_RE = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?)?)?)?([+-]\d{4})?$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function validDate(year: number, month: number, day: number): boolean {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** Parses a DICOM DA value; undefined (and reported) when malformed. */
export function parseDA(value: string | undefined, onDropped?: DropSink, what = 'DA'): DicomDate | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  const m = DA_RE.exec(v) ?? DA_OLD_RE.exec(v);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    if (validDate(year, month, day)) return { year, month, day };
  }
  onDropped?.(what, value);
  return undefined;
}

/** A year, or a year and month: what a partial DA (`YYYY`, `YYYYMM`) says. */
export interface PartialDate {
  year: number;
  month?: number;
}

/** Parses a partial DA (`YYYY`, `YYYYMM`); undefined for anything else, unreported (the caller reports). */
export function parsePartialDA(value: string | undefined): PartialDate | undefined {
  const m = value === undefined ? null : DA_PARTIAL_RE.exec(value.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 1) return undefined;
  if (m[2] === undefined) return { year };
  const month = Number(m[2]);
  return month >= 1 && month <= 12 ? { year, month } : undefined;
}

/** `YYYY` or `YYYY-MM` (FHIR date / dateTime partial forms). */
export function formatPartialDate(d: PartialDate): string {
  return d.month === undefined ? pad(d.year, 4) : `${pad(d.year, 4)}-${pad(d.month)}`;
}

/**
 * A DA as a FHIR date string: `YYYY-MM-DD`, or the partial `YYYY` / `YYYY-MM`
 * of a partial DA; undefined (and reported) when malformed.
 */
function fhirDateOf(value: string | undefined, onDropped: DropSink | undefined, what: string): { text: string; full?: DicomDate } | undefined {
  const partial = parsePartialDA(value);
  if (partial) return { text: formatPartialDate(partial) };
  const full = parseDA(value, onDropped, what);
  return full ? { text: formatDate(full), full } : undefined;
}

/** Parses a DICOM TM value; undefined (and reported) when malformed. */
export function parseTM(value: string | undefined, onDropped?: DropSink, what = 'TM'): DicomTime | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  const m = TM_RE.exec(v) ?? TM_OLD_RE.exec(v);
  if (m) {
    const hour = Number(m[1]);
    const minute = m[2] === undefined ? 0 : Number(m[2]);
    const second = m[3] === undefined ? 0 : Number(m[3]);
    if (hour <= 23 && minute <= 59 && second <= 60) return { hour, minute, second, fraction: m[4] ?? '' };
  }
  onDropped?.(what, value);
  return undefined;
}

/** Parses (0008,0201) `+HHMM`/`-HHMM` into minutes east of UTC. */
export function parseTimezoneOffset(value: string | undefined, onDropped?: DropSink): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  const m = OFFSET_RE.exec(v);
  if (m) {
    const hours = Number(m[2]);
    const minutes = Number(m[3]);
    const total = (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
    if (minutes <= 59 && total >= -12 * 60 && total <= 14 * 60) return total;
  }
  onDropped?.('TimezoneOffsetFromUTC', value);
  return undefined;
}

export function formatDate(d: DicomDate): string {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

export function formatTime(t: DicomTime): string {
  return `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${t.fraction ? `.${t.fraction}` : ''}`;
}

/** Formats minutes east of UTC as `+HH:MM` / `-HH:MM` (UTC is `+00:00`, never `Z`). */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const formatterCache = new Map<string, Intl.DateTimeFormat | null>();

function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let f = formatterCache.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        era: 'short',
      });
    } catch {
      f = null;
    }
    formatterCache.set(timeZone, f);
  }
  return f;
}

/** Whether `timeZone` is an IANA zone name this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  return formatterFor(timeZone) !== null;
}

function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  d.setUTCFullYear(year);
  return d.getTime();
}

/** The offset (minutes east of UTC) of `timeZone` at the instant `epochMs`. */
export function zoneOffsetAt(timeZone: string, epochMs: number): number | undefined {
  const f = formatterFor(timeZone);
  if (!f) return undefined;
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(epochMs))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  const wall = utcMs(year, Number(parts.month), Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const floored = Math.floor(epochMs / 1000) * 1000;
  return Math.round((wall - floored) / 60000);
}

/**
 * The offset for a wall-clock time in an IANA zone, with the DST gap and
 * overlap rules of this module's header. Undefined for an unknown zone.
 */
export function zoneOffsetForWallTime(timeZone: string, date: DicomDate, time: DicomTime): number | undefined {
  if (!formatterFor(timeZone)) return undefined;
  const wall = utcMs(date.year, date.month, date.day, time.hour, time.minute, Math.min(time.second, 59));
  const day = 24 * 3600 * 1000;
  const before = zoneOffsetAt(timeZone, wall - day);
  const after = zoneOffsetAt(timeZone, wall + day);
  if (before === undefined || after === undefined) return undefined;
  // Candidates: the offsets in force around this wall time; keep those under
  // which the wall time really maps back to itself.
  const candidates = before === after ? [before] : [before, after];
  const valid = candidates.filter((o) => zoneOffsetAt(timeZone, wall - o * 60000) === o);
  if (valid.length === 1) return valid[0];
  if (valid.length > 1) return Math.max(...valid); // overlap: earlier instant
  // Gap: the offset in force before the transition.
  return before;
}

export interface DateTimeContext {
  /** (0008,0201) raw value, if any. */
  timezoneOffsetFromUtc?: string;
  /** IANA zone used when (0008,0201) is absent or invalid. */
  timezone: string;
  onDropped?: DropSink;
}

/**
 * DA (+ optional TM) → FHIR date or dateTime. Returns undefined when the date
 * is absent or malformed (a time without a date is dropped, and reported).
 */
export function toFhirDateTime(
  da: string | undefined,
  tm: string | undefined,
  ctx: DateTimeContext,
  names: { date: string; time: string } = { date: 'DA', time: 'TM' },
): string | undefined {
  const dated = fhirDateOf(da, ctx.onDropped, names.date);
  const time = parseTM(tm, ctx.onDropped, names.time);
  if (!dated) {
    if (time && tm !== undefined) ctx.onDropped?.(`${names.time} without ${names.date}`, tm);
    return undefined;
  }
  if (!time) return dated.text;
  const date = dated.full;
  if (!date) {
    // FHIR: a dateTime with a time has a full date. The partial date is kept, the time is not.
    if (tm !== undefined) ctx.onDropped?.(`${names.time} with a partial ${names.date}`, tm);
    return dated.text;
  }
  let offset = parseTimezoneOffset(ctx.timezoneOffsetFromUtc, ctx.onDropped);
  if (offset === undefined) {
    offset = zoneOffsetForWallTime(ctx.timezone, date, time);
    if (offset === undefined) {
      ctx.onDropped?.('timezone', ctx.timezone);
      return formatDate(date);
    }
  }
  return `${formatDate(date)}T${formatTime(time)}${formatOffset(offset)}`;
}

/**
 * DICOM DT (`YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]`) → FHIR date/dateTime.
 * Precision below a day keeps the FHIR partial forms (`YYYY`, `YYYY-MM`,
 * `YYYY-MM-DD`); with hours the time is completed (`HH` → `HH:00:00`) and an
 * offset is added as for DA+TM (the DT's own suffix first, then (0008,0201),
 * then the zone).
 */
export function dtToFhirDateTime(value: string | undefined, ctx: DateTimeContext, what = 'DT'): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  const m = DT_RE.exec(v);
  const drop = (): undefined => {
    ctx.onDropped?.(what, value);
    return undefined;
  };
  if (!m) return drop();
  const [, y, mo, d, h, mi, s, frac, suffix] = m;
  const year = Number(y);
  if (year < 1) return drop();
  // Without a time FHIR cannot carry an offset: a DT suffix is then ignored.
  if (mo === undefined) return pad(year, 4);
  const month = Number(mo);
  if (month < 1 || month > 12) return drop();
  if (d === undefined) return `${pad(year, 4)}-${pad(month)}`;
  const day = Number(d);
  if (!validDate(year, month, day)) return drop();
  const date = { year, month, day };
  if (h === undefined) return formatDate(date);
  const time = parseTM(`${h}${mi ?? ''}${s ?? ''}${frac !== undefined ? `.${frac}` : ''}`);
  if (!time || (frac !== undefined && s === undefined)) return drop();
  const own = suffix !== undefined ? parseTimezoneOffset(suffix) : undefined;
  if (suffix !== undefined && own === undefined) return drop();
  if (own !== undefined) return `${formatDate(date)}T${formatTime(time)}${formatOffset(own)}`;
  let offset = parseTimezoneOffset(ctx.timezoneOffsetFromUtc, ctx.onDropped);
  offset ??= zoneOffsetForWallTime(ctx.timezone, date, time);
  if (offset === undefined) {
    ctx.onDropped?.('timezone', ctx.timezone);
    return formatDate(date);
  }
  return `${formatDate(date)}T${formatTime(time)}${formatOffset(offset)}`;
}

/** DA → FHIR date (birthDate), a partial DA as `YYYY` / `YYYY-MM`; undefined when absent or malformed. */
export function toFhirDate(da: string | undefined, onDropped?: DropSink, what = 'DA'): string | undefined {
  return fhirDateOf(da, onDropped, what)?.text;
}
