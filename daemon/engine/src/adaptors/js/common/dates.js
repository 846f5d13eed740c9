// dateFns: date-fns `format` and `parse`, evaluated in UTC.

import { isDate, printLine } from '@openfn/language-common/internal/helpers';

const DAY_MS = 86400000;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const ordinal = (n) => {
  const rem100 = n % 100;
  if (rem100 > 20 || rem100 < 10) {
    switch (rem100 % 10) {
      case 1: return `${n}st`;
      case 2: return `${n}nd`;
      case 3: return `${n}rd`;
      default: break;
    }
  }
  return `${n}th`;
};

const pad = (n, width) => String(Math.abs(n)).padStart(width, '0');

const toDateValue = (d) => (isDate(d) ? new Date(d.getTime()) : typeof d === 'number' ? new Date(d) : new Date(NaN));

function isoWeek(d) {
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = target.getUTCDay() || 7;
  target.setUTCDate(target.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(target.getUTCFullYear(), 0, 1));
  return Math.ceil(((target - yearStart) / DAY_MS + 1) / 7);
}

const utcDay = (d) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
const startOfWeek = (time) => time - new Date(time).getUTCDay() * DAY_MS;

// date-fns' local week-numbering year (weeks start on Sunday; week 1 contains 1 January).
function localWeekYear(d) {
  const year = d.getUTCFullYear();
  const day = utcDay(d);
  if (day >= startOfWeek(Date.UTC(year + 1, 0, 1))) return year + 1;
  if (day >= startOfWeek(Date.UTC(year, 0, 1))) return year;
  return year - 1;
}

function localWeek(d) {
  const start = startOfWeek(Date.UTC(localWeekYear(d), 0, 1));
  return Math.round((startOfWeek(utcDay(d)) - start) / (7 * DAY_MS)) + 1;
}

function isoWeekYear(d) {
  const thursday = utcDay(d) + (4 - (d.getUTCDay() || 7)) * DAY_MS;
  return new Date(thursday).getUTCFullYear();
}

const dayOfYear = (d) => Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;

function formatToken(token, d) {
  const letter = token[0];
  const n = token.length;
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  const hours = d.getUTCHours();
  const weekday = d.getUTCDay();
  switch (letter) {
    case 'G': return n <= 3 ? (year > 0 ? 'AD' : 'BC') : n === 4 ? (year > 0 ? 'Anno Domini' : 'Before Christ') : (year > 0 ? 'A' : 'B');
    case 'y': case 'Y': case 'R': case 'u': {
      const value = letter === 'Y' ? localWeekYear(d) : letter === 'R' ? isoWeekYear(d) : year;
      if (n === 2 && letter !== 'u') return pad(value % 100, 2);
      return pad(value, n);
    }
    case 'Q': case 'q': {
      const quarter = Math.floor(month / 3) + 1;
      if (n === 1) return String(quarter);
      if (n === 2) return pad(quarter, 2);
      if (n === 3) return `Q${quarter}`;
      if (n === 4) return ['1st quarter', '2nd quarter', '3rd quarter', '4th quarter'][quarter - 1];
      return String(quarter);
    }
    case 'M': case 'L':
      if (n === 1) return String(month + 1);
      if (n === 2) return pad(month + 1, 2);
      if (n === 3) return MONTHS[month].slice(0, 3);
      if (n === 4) return MONTHS[month];
      return MONTHS[month][0];
    case 'w': return n === 2 ? pad(localWeek(d), 2) : String(localWeek(d));
    case 'I': return n === 2 ? pad(isoWeek(d), 2) : String(isoWeek(d));
    case 'd': return n === 2 ? pad(day, 2) : String(day);
    case 'D': return pad(dayOfYear(d), n);
    case 'E': case 'e': case 'c': case 'i': {
      if ((letter === 'e' || letter === 'c') && n <= 2) {
        const local = weekday + 1;
        return n === 2 ? pad(local, 2) : String(local);
      }
      if (letter === 'i' && n <= 2) {
        const iso = weekday || 7;
        return n === 2 ? pad(iso, 2) : String(iso);
      }
      if (n <= 3) return WEEKDAYS[weekday].slice(0, 3);
      if (n === 4) return WEEKDAYS[weekday];
      if (n === 5) return WEEKDAYS[weekday][0];
      return WEEKDAYS[weekday].slice(0, 2);
    }
    case 'b': {
      const period = hours === 12 ? 'noon' : hours === 0 ? 'midnight' : null;
      if (n <= 2) return period || (hours < 12 ? 'AM' : 'PM');
      if (n === 3) return period || (hours < 12 ? 'am' : 'pm');
      if (n === 5) return period ? (period === 'noon' ? 'n' : 'mi') : (hours < 12 ? 'a' : 'p');
      return period || (hours < 12 ? 'a.m.' : 'p.m.');
    }
    case 'B':
      if (hours >= 17) return 'in the evening';
      if (hours >= 12) return 'in the afternoon';
      if (hours >= 4) return 'in the morning';
      return 'at night';
    case 'a': {
      const upper = hours < 12 ? 'AM' : 'PM';
      if (n <= 2) return upper;
      if (n === 3) return upper.toLowerCase();
      if (n === 5) return upper[0].toLowerCase();
      return hours < 12 ? 'a.m.' : 'p.m.';
    }
    case 'h': { const h = hours % 12 || 12; return n === 2 ? pad(h, 2) : String(h); }
    case 'H': return n === 2 ? pad(hours, 2) : String(hours);
    case 'K': { const h = hours % 12; return n === 2 ? pad(h, 2) : String(h); }
    case 'k': { const h = hours || 24; return n === 2 ? pad(h, 2) : String(h); }
    case 'm': return n === 2 ? pad(d.getUTCMinutes(), 2) : String(d.getUTCMinutes());
    case 's': return n === 2 ? pad(d.getUTCSeconds(), 2) : String(d.getUTCSeconds());
    case 'S': return pad(d.getUTCMilliseconds(), 3).slice(0, n).padEnd(n, '0');
    case 'X': return 'Z';
    case 'x': return n === 1 ? '+00' : n === 2 || n === 4 ? '+0000' : '+00:00';
    case 'O': case 'z': return n === 4 ? 'GMT+00:00' : 'GMT+0';
    case 't': return String(Math.floor(d.getTime() / 1000));
    case 'T': return String(d.getTime());
    default: return token;
  }
}

const LONG_DATE = { P: 'MM/dd/yyyy', PP: 'MMM d, y', PPP: 'MMMM do, y', PPPP: 'EEEE, MMMM do, y' };
const LONG_TIME = { p: 'h:mm a', pp: 'h:mm:ss a', ppp: 'h:mm:ss a z', pppp: 'h:mm:ss a zzzz' };

function expandLongFormats(formatStr) {
  return formatStr.replace(/P+p+|P+|p+/g, (match) => {
    const datePart = match.match(/^P+/);
    const timePart = match.match(/p+$/);
    if (datePart && timePart) {
      const joiner = { 1: ', ', 2: ', ', 3: " 'at' ", 4: " 'at' " }[datePart[0].length];
      return `${LONG_DATE[datePart[0]]}${joiner}${LONG_TIME[timePart[0]]}`;
    }
    return datePart ? LONG_DATE[match] || match : LONG_TIME[match] || match;
  });
}

const TOKEN_PATTERN = /[yYQqMLwIdDecihHKkms]o|(\w)\1*|''|'(''|[^'])+('|$)|./g;

// date-fns refuses D/DD/YY/YYYY (moment-style tokens that mean something else) and warns on
// other D… / Y… tokens.
function protectedToken(token, formatStr, input) {
  if (!/^(D+|Y+)$/.test(token)) return;
  const subject = token[0] === 'Y' ? 'years' : 'days of the month';
  const message = `Use \`${token.toLowerCase()}\` instead of \`${token}\` (in \`${formatStr}\`) for formatting ${subject} to the input \`${input}\`; see: https://github.com/date-fns/date-fns/blob/master/docs/unicodeTokens.md`;
  printLine('warn', message);
  if (['D', 'DD', 'YY', 'YYYY'].includes(token)) throw new RangeError(message);
}

/** date-fns `format`, evaluated in UTC. */
function formatDate(date, formatStr) {
  const d = toDateValue(date);
  if (isNaN(d.getTime())) throw new RangeError('Invalid time value');
  const expanded = expandLongFormats(String(formatStr));
  return (expanded.match(TOKEN_PATTERN) || []).map((token) => {
    if (token === "''") return "'";
    if (token[0] === "'") return token.replace(/^'|'$/g, '').replace(/''/g, "'");
    if (/^[yYQqMLwIdDecihHKkms]o$/.test(token)) {
      const base = token.slice(0, -1);
      const value = Number(formatToken(base[0], d));
      if (base[0] === 'M' || base[0] === 'L') return ordinal(d.getUTCMonth() + 1);
      return ordinal(value);
    }
    if (/^[A-Za-z]/.test(token)) {
      protectedToken(token, formatStr, String(date));
      if (!/[GyYRuQqMLwIdDEeciabBhHKkmsSXxOzTt]/.test(token[0])) {
        throw new RangeError(`Format string contains an unescaped latin alphabet character \`${token[0]}\``);
      }
      return formatToken(token, d);
    }
    return token;
  }).join('');
}

/** date-fns `parse` (UTC): fields below the smallest parsed unit reset, the rest from referenceDate. */
function parseDateString(dateStr, formatStr, referenceDate) {
  const invalid = () => new Date(NaN);
  const tokens = expandLongFormats(String(formatStr)).match(TOKEN_PATTERN) || [];
  let rest = String(dateStr);
  const set = {};
  for (const token of tokens) {
    if (token[0] === "'" || !/^[A-Za-z]/.test(token)) {
      const literal = token === "''" ? "'" : token[0] === "'" ? token.replace(/^'|'$/g, '').replace(/''/g, "'") : token;
      if (/^\s+$/.test(literal)) { rest = rest.replace(/^\s+/, ''); continue; }
      if (!rest.startsWith(literal)) return invalid();
      rest = rest.slice(literal.length);
      continue;
    }
    protectedToken(token, formatStr, dateStr);
    const letter = token[0];
    const n = token.length;
    const take = (regexp) => {
      const m = rest.match(regexp);
      if (!m) return null;
      rest = rest.slice(m[0].length);
      return m[0];
    };
    // date-fns reads up to N digits for an N-letter numeric token ("MM" accepts "3").
    const number = (max) => take(new RegExp(`^\\d{1,${Math.max(n, max)}}`));
    if (/^[yYQqMLwIdDecihHKkms]o$/.test(token)) {
      const m = take(/^\d+(st|nd|rd|th)/);
      if (!m) return invalid();
      const value = parseInt(m, 10);
      if (letter === 'y') set.year = value;
      else if (letter === 'M' || letter === 'L') set.month = value - 1;
      else if (letter === 'd') set.day = value;
      else if ('hHkK'.includes(letter)) { set.hours = value; set.hourStyle = letter; }
      else if (letter === 'm') set.minutes = value;
      else if (letter === 's') set.seconds = value;
      continue;
    }
    let v;
    switch (letter) {
      case 'y': case 'Y': case 'u': case 'R':
        v = take(n === 2 ? /^\d{2}/ : /^\d{1,4}/);
        if (v === null) return invalid();
        set.year = n === 2 ? 2000 + Number(v) - (Number(v) >= 50 ? 100 : 0) : Number(v);
        break;
      case 'M': case 'L':
        if (n >= 3) {
          const names = MONTHS.map((m) => (n === 3 ? m.slice(0, 3) : m));
          const i = names.findIndex((m) => rest.toLowerCase().startsWith(m.toLowerCase()));
          if (i < 0) return invalid();
          rest = rest.slice(names[i].length);
          set.month = i;
        } else {
          v = number(2);
          if (v === null || Number(v) < 1 || Number(v) > 12) return invalid();
          set.month = Number(v) - 1;
        }
        break;
      case 'd':
        v = number(2);
        if (v === null || Number(v) < 1 || Number(v) > 31) return invalid();
        set.day = Number(v);
        break;
      case 'E': {
        const names = WEEKDAYS.map((w) => (n <= 3 ? w.slice(0, 3) : w));
        const i = names.findIndex((w) => rest.toLowerCase().startsWith(w.toLowerCase()));
        if (i < 0) return invalid();
        rest = rest.slice(names[i].length);
        break;
      }
      case 'H': case 'h': case 'k': case 'K':
        v = number(2);
        if (v === null) return invalid();
        {
          const [low, high] = { H: [0, 23], h: [1, 12], k: [1, 24], K: [0, 11] }[letter];
          if (Number(v) < low || Number(v) > high) return invalid();
        }
        set.hours = Number(v);
        set.hourStyle = letter;
        break;
      case 'a': {
        const m = take(/^(am|pm|a\.m\.|p\.m\.)/i);
        if (!m) return invalid();
        set.pm = /^p/i.test(m);
        break;
      }
      case 'm':
        v = number(2);
        if (v === null || Number(v) > 59) return invalid();
        set.minutes = Number(v);
        break;
      case 's':
        v = number(2);
        if (v === null || Number(v) > 59) return invalid();
        set.seconds = Number(v);
        break;
      case 'S':
        v = take(new RegExp(`^\\d{${n}}`));
        if (v === null) return invalid();
        set.ms = Math.round(Number(`0.${v}`) * 1000);
        break;
      case 'X': case 'x': {
        const m = take(/^(Z|[+-]\d{2}(:?\d{2})?)/);
        if (!m) return invalid();
        set.offset = m === 'Z' ? 0 : (m[0] === '-' ? -1 : 1) * (Number(m.slice(1, 3)) * 60 + Number(m.replace(':', '').slice(3, 5) || 0));
        break;
      }
      case 'T': case 't':
        v = take(/^-?\d+/);
        if (v === null) return invalid();
        set.timestamp = letter === 'T' ? Number(v) : Number(v) * 1000;
        break;
      default:
        throw new RangeError(`Format string contains an unescaped latin alphabet character \`${letter}\``);
    }
  }
  if (/\S/.test(rest)) return invalid();
  if (set.timestamp !== undefined) return new Date(set.timestamp);
  const ref = toDateValue(referenceDate);
  if (isNaN(ref.getTime())) return invalid();
  const d = new Date(ref.getTime());
  if (set.year !== undefined) { d.setUTCFullYear(set.year, 0, 1); d.setUTCHours(0, 0, 0, 0); }
  if (set.month !== undefined) { d.setUTCMonth(set.month, 1); d.setUTCHours(0, 0, 0, 0); }
  if (set.day !== undefined) {
    const month = d.getUTCMonth();
    d.setUTCDate(set.day);
    if (d.getUTCMonth() !== month) return invalid();
    d.setUTCHours(0, 0, 0, 0);
  }
  if (set.hours !== undefined) {
    let h = set.hours;
    if (set.hourStyle === 'h') h = h % 12 + (set.pm ? 12 : 0);
    else if (set.hourStyle === 'k' && h === 24) h = 0;
    else if (set.hourStyle === 'K' && set.pm) h += 12;
    d.setUTCHours(h, 0, 0, 0);
  } else if (set.pm !== undefined) {
    d.setUTCHours(d.getUTCHours() % 12 + (set.pm ? 12 : 0));
  }
  if (set.minutes !== undefined) d.setUTCMinutes(set.minutes, 0, 0);
  if (set.seconds !== undefined) d.setUTCSeconds(set.seconds, 0);
  if (set.ms !== undefined) d.setUTCMilliseconds(set.ms);
  if (set.offset !== undefined) return new Date(d.getTime() - set.offset * 60000);
  return d;
}

export const dateFns = { format: formatDate, parse: parseDateString };
