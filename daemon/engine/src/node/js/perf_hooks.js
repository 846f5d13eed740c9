// node:perf_hooks: `performance` (now, timeOrigin, marks and measures) over Date.now; the
// event-loop monitors are refused.

import { refusing } from 'bolt:node/internal/errors';

const timeOrigin = Date.now();
const entries = [];

class PerformanceEntry {
  constructor(name, entryType, startTime, duration, detail) {
    this.name = name;
    this.entryType = entryType;
    this.startTime = startTime;
    this.duration = duration;
    this.detail = detail ?? null;
  }
  toJSON() { return { name: this.name, entryType: this.entryType, startTime: this.startTime, duration: this.duration, detail: this.detail }; }
}

export const performance = {
  timeOrigin,
  now: () => Date.now() - timeOrigin,
  mark(name, options = {}) {
    const entry = new PerformanceEntry(String(name), 'mark', options.startTime ?? performance.now(), 0, options.detail);
    entries.push(entry);
    return entry;
  },
  measure(name, start, end) {
    const find = (mark) => (typeof mark === 'string' ? (entries.filter((e) => e.name === mark).pop() || {}).startTime : mark);
    let startTime = 0;
    let endTime = performance.now();
    if (start && typeof start === 'object') {
      startTime = find(start.start) ?? 0;
      endTime = find(start.end) ?? endTime;
    } else {
      if (start !== undefined) startTime = find(start) ?? 0;
      if (end !== undefined) endTime = find(end) ?? endTime;
    }
    const entry = new PerformanceEntry(String(name), 'measure', startTime, endTime - startTime, start && start.detail);
    entries.push(entry);
    return entry;
  },
  clearMarks(name) { remove('mark', name); },
  clearMeasures(name) { remove('measure', name); },
  getEntries: () => entries.slice(),
  getEntriesByName: (name, type) => entries.filter((e) => e.name === name && (type === undefined || e.entryType === type)),
  getEntriesByType: (type) => entries.filter((e) => e.entryType === type),
  toJSON: () => ({ timeOrigin, nodeTiming: {}, eventLoopUtilization: {} }),
  eventLoopUtilization: () => ({ idle: 0, active: 0, utilization: 0 }),
  timerify: (fn) => fn,
};

function remove(type, name) {
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i].entryType === type && (name === undefined || entries[i].name === name)) entries.splice(i, 1);
  }
}

export class PerformanceObserver {
  constructor(callback) { this.callback = callback; }
  observe() {}
  disconnect() {}
  static get supportedEntryTypes() { return ['mark', 'measure']; }
}

export { PerformanceEntry };
export const monitorEventLoopDelay = refusing('perf_hooks.monitorEventLoopDelay', "bolt's sandbox has no event-loop monitor");
export const createHistogram = refusing('perf_hooks.createHistogram', "bolt's sandbox has no histograms");
export const constants = Object.freeze({ NODE_PERFORMANCE_GC_MAJOR: 4, NODE_PERFORMANCE_GC_MINOR: 1 });

export default { performance, PerformanceObserver, PerformanceEntry, monitorEventLoopDelay, createHistogram, constants };
